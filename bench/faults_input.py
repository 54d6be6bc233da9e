"""Malformed input, through the files and the FHIR API: does anything crash, write half a file,
or get stored although it is invalid?

    .venv/bin/python -m bench faults_input [--limit N] [--keep DIR]

Generates mutations of valid records (a JSONL row, a CSV row, a FHIR Patient + DocumentReference
as a Bundle and as NDJSON): NUL bytes, overlong values, lists/objects/numbers where strings
belong, deep nesting, unpaired surrogates, dates out of range or malformed, empty files, broken
structure. A few mutations are valid on purpose (a time without a zone, a 200,000-character CSV
note) and must be accepted. Every case has its own MRN, in the bench's own database
(clinsum_bench_faults): files through `manage.py ingest_notes`, bundles also through POST
/api/fhir/Bundle with a service token (Django's test client, the whole middleware stack).

Counted per channel:
- crash: an exception out of the command, an "internal error" line, a traceback, or an HTTP 500
  or an answer that is not an OperationOutcome;
- partial write: rejected, yet patient or note rows changed;
- accepted-but-invalid: an invalid input stored (or a valid one refused: listed separately);
- unclear: rejected without a `file:line` / `Bundle.entry[i]` (or file-level) message.
Bounded: every input is at most a few hundred kB; --limit caps the cases.
"""

from __future__ import annotations

import argparse
import base64
import copy
import io
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.stack import bench_setup

DEEP = "[" * 5_000 + "]" * 5_000
NASTY_STRINGS = {
    "nul": "ab\x00cd",
    "overlong": "x" * 1_000,
    "surrogate": "ab\ud800cd",
    "empty": "",
    "spaces": "   ",
}
NASTY_VALUES = {
    "list": ["x"],
    "dict": {"a": "b"},
    "int": 12,
    "float": 1.5,
    "bool": True,
    "deep": "\u2063DEEP\u2063",
}  # replaced by DEEP when written
BAD_DATES = {
    "far-future": "9999-12-31T23:00-05:00",
    "year-one": "0001-01-01T00:00+01:00",
    "1899": "1899-12-31T12:00Z",
    "next-century": "2199-01-01T00:00Z",
    "month-13": "2026-13-01T00:00Z",
    "words": "yesterday",
    "slashes": "11/19/2026 08:00",
    "offset-25h": "2026-11-19T08:00+25:00",
}
BAD_BIRTHS = {"year-one": "0001-01-01", "future": "2999-01-01", "1850": "1850-06-01", "words": "long ago"}
VALID_TIME = "2026-11-19T08:00:00Z"


@dataclass
class Case:
    channel: str  # jsonl, csv, fhir-json, fhir-ndjson, api
    name: str
    payload: bytes
    valid: bool = False  # a mutation that must be accepted


def base_row(i: int) -> dict:
    return {
        "mrn": f"FLT-{i}",
        "note_type": "progress",
        "authored_at": VALID_TIME,
        "author": "Dr. Fault",
        "author_role": "Physician",
        "title": "Progress note",
        "text": f"Fault case {i}: patient stable, afebrile.",
        "family_name": "Faultline",
        "given_name": "Ada",
        "birth_date": "1950-02-03",
        "sex": "female",
        "unit": "4W",
    }


def _json(value) -> str:
    return json.dumps(value).replace(json.dumps(NASTY_VALUES["deep"]), DEEP)


def jsonl(rows: list[dict]) -> bytes:
    return ("\n".join(_json(r) for r in rows) + "\n").encode("utf-8", "surrogatepass")


def csv_bytes(rows: list[dict], *, header: list[str] | None = None) -> bytes:
    import csv

    out = io.StringIO(newline="")
    columns = header or list(rows[0])
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8", "surrogatepass")


def patient(i: int) -> dict:
    return {
        "resourceType": "Patient",
        "id": f"flt-{i}",
        "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": f"FLT-{i}"}],
        "name": [{"use": "official", "family": "Faultline", "given": ["Ada"]}],
        "birthDate": "1950-02-03",
        "gender": "female",
    }


def document(i: int) -> dict:
    text = base64.b64encode(f"Fault case {i}: chest pain resolved.".encode()).decode()
    return {
        "resourceType": "DocumentReference",
        "id": f"flt-doc-{i}",
        "status": "current",
        "subject": {"reference": f"Patient/flt-{i}"},
        "type": {"text": "Progress note", "coding": [{"system": "http://loinc.org", "code": "11506-3"}]},
        "date": VALID_TIME,
        "author": [{"display": "Dr. Fault"}],
        "description": "Progress note",
        "content": [{"attachment": {"contentType": "text/plain", "data": text}}],
    }


def bundle(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def dumps(value) -> bytes:
    return _json(value).encode("utf-8", "surrogatepass")


def _set(resource: dict, path: tuple, value) -> dict:
    resource = copy.deepcopy(resource)
    target = resource
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return resource


def table_cases() -> list[Case]:
    cases: list[Case] = []
    i = 0
    fields = list(base_row(0))
    for field in fields:
        for kind, value in {**NASTY_STRINGS, **NASTY_VALUES}.items():
            i += 1
            row = base_row(i) | {field: value}
            # Blank optional fields are fine; a blank title, role or given name stores nothing wrong.
            optional = ("author", "author_role", "title", "given_name", "unit", "birth_date", "sex", "note_type")
            # Blank optional fields store nothing wrong (an unknown note type is "other"); a
            # 1,000-character note is a note.
            valid = (kind in ("empty", "spaces") and field in optional) or (kind == "overlong" and field == "text")
            cases.append(Case("jsonl", f"{field}={kind}", jsonl([row]), valid))
            if kind in NASTY_STRINGS and kind != "surrogate":
                cases.append(Case("csv", f"{field}={kind}", csv_bytes([row]), valid))
    for name, value in BAD_DATES.items():
        i += 1
        cases.append(Case("jsonl", f"authored_at={name}", jsonl([base_row(i) | {"authored_at": value}])))
        cases.append(Case("csv", f"authored_at={name}", csv_bytes([base_row(i) | {"authored_at": value}])))
    for name, value in BAD_BIRTHS.items():
        i += 1
        cases.append(Case("jsonl", f"birth_date={name}", jsonl([base_row(i) | {"birth_date": value}])))
        cases.append(Case("csv", f"birth_date={name}", csv_bytes([base_row(i) | {"birth_date": value}])))
    i += 1
    naive = base_row(i) | {"authored_at": "2026-11-19T08:00"}
    cases += [
        Case("jsonl", "authored_at=no-zone", jsonl([naive]), True),
        Case("csv", "authored_at=no-zone", csv_bytes([naive]), True),
    ]
    i += 1
    two = [base_row(i), base_row(i) | {"family_name": "Othername", "text": "second note"}]
    cases += [Case("jsonl", "one-mrn-two-names", jsonl(two)), Case("csv", "one-mrn-two-names", csv_bytes(two))]
    i += 1
    big = base_row(i) | {"text": "Stable overnight. " * 11_000}  # 198,000 characters: legal
    cases += [Case("csv", "note-198k", csv_bytes([big]), True), Case("jsonl", "note-198k", jsonl([big]), True)]
    structural = {
        "empty": b"",
        "blank-lines": b"\n\n  \n",
        "not-json": b"{not json\n",
        "array": b"[1, 2]\n",
        "string": b'"a note"\n',
        "deep": (DEEP + "\n").encode(),
        "deep-object": ('{"mrn": ' + "[" * 100_000 + "\n").encode(),
        "truncated": jsonl([base_row(0)])[:40],
        "bom-only": b"\xef\xbb\xbf",
        "nul-bytes": b"\x00" * 64,
        "missing-text": jsonl([{k: v for k, v in base_row(0).items() if k != "text"}]),
        "null-text": jsonl([base_row(0) | {"text": None}]),
    }
    cases += [Case("jsonl", f"file={name}", payload) for name, payload in structural.items()]
    header = "mrn,note_type,authored_at,author,text\n"
    csv_structural = {
        "empty": b"",
        "header-only": header.encode(),
        "missing-column": b"mrn,note_type,authored_at,text\nFLT-0,progress,2026-11-19T08:00Z,hi\n",
        "extra-field": (header + "FLT-0,progress,2026-11-19T08:00Z,Dr,hi,extra\n").encode(),
        "unterminated-quote": (header + 'FLT-0,progress,2026-11-19T08:00Z,Dr,"hi\n').encode(),
        "field-over-limit": (header + "FLT-0,progress,2026-11-19T08:00Z,Dr," + "x" * 600_000 + "\n").encode(),
        "nul-header": b"mrn\x00,note_type\n",
        "binary": bytes(range(256)),
    }
    cases += [Case("csv", f"file={name}", payload) for name, payload in csv_structural.items()]
    return cases


def fhir_mutations() -> list[tuple[str, str, tuple, object, bool]]:
    """(name, resource "patient"|"document", path, value, valid)."""
    out: list[tuple[str, str, tuple, object, bool]] = []
    targets = {
        "patient": [("identifier", 0, "value"), ("name", 0, "family"), ("name", 0, "given", 0), ("id",)],
        "document": [("type", "text"), ("author", 0, "display"), ("description",), ("id",), ("subject", "reference")],
    }
    for resource, paths in targets.items():
        for path in paths:
            label = ".".join(map(str, path))
            for kind, value in {**NASTY_STRINGS, **NASTY_VALUES}.items():
                # Surrounding spaces are trimmed (a blank family name leaves the given name); the
                # description is the title only when the type has no text, so here it is unused.
                valid = (kind == "spaces" and path[0] in ("name", "type", "author", "description")) or (
                    path == ("description",) and kind in ("nul", "overlong")
                )
                out.append((f"{resource}.{label}={kind}", resource, path, value, valid))
    for name, value in BAD_DATES.items():
        out.append((f"document.date={name}", "document", ("date",), value, False))
    for name, value in BAD_BIRTHS.items():
        out.append((f"patient.birthDate={name}", "patient", ("birthDate",), value, False))
    out.append(("document.date=no-zone-date", "document", ("date",), "2026-11-19", False))  # FHIR instant needs a zone
    out.append(("document.data=not-base64", "document", ("content", 0, "attachment", "data"), "%%%", False))
    out.append(
        ("document.contentType=image", "document", ("content", 0, "attachment", "contentType"), "image/png", False)
    )
    out.append(("patient.gender=list", "patient", ("gender",), ["female"], False))
    return out


def fhir_cases() -> list[Case]:
    cases: list[Case] = []
    for n, (name, which, path, value, valid) in enumerate(fhir_mutations(), start=10_000):
        pat, doc = patient(n), document(n)
        if which == "patient":
            pat = _set(pat, path, value)
        else:
            doc = _set(doc, path, value)
        cases.append(Case("api", name, dumps(bundle(pat, doc)), valid))
        cases.append(Case("fhir-json", name, dumps(bundle(pat, doc)), valid))
        cases.append(Case("fhir-ndjson", name, dumps(pat) + b"\n" + dumps(doc) + b"\n", valid))
    documents = {
        "empty": b"",
        "not-json": b"{not json",
        "array": b"[]",
        "deep": DEEP.encode(),
        "deep-in-bundle": ('{"resourceType": "Bundle", "type": "collection", "entry": ' + "[" * 100_000).encode(),
        "entry-not-list": dumps({"resourceType": "Bundle", "type": "collection", "entry": {"a": 1}}),
        "wrong-type": dumps({"resourceType": "Bundle", "type": "history", "entry": []}),
        "no-resource": dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "x"}]}),
        "resource-type-list": dumps(bundle({"resourceType": ["Patient"]})),
        "nul-bytes": b"\x00" * 64,
        "latin1": '{"resourceType": "Bundle", "type": "collection", "x": "é"}'.encode("latin-1"),
        "two-names": dumps(
            bundle(patient(900), _set(patient(900), ("name", 0, "family"), "Other") | {"id": "flt-900b"})
        ),
    }
    for name, payload in documents.items():
        cases.append(Case("api", f"document={name}", payload))
        cases.append(Case("fhir-json", f"document={name}", payload))
    return cases


class Runner:
    def __init__(self, folder: Path):
        from django.test import Client

        from clinsum.charts.services import service_token_create

        self.folder = folder
        self.client = Client(raise_request_exception=False)
        from clinsum.charts.models import Patient

        Patient.objects.filter(mrn__startswith="FLT-").delete()  # an earlier run's (cases use FLT-<n>)
        name = f"faults-{time.time_ns()}"
        self.token = service_token_create(name=name)[1]

    def counts(self) -> tuple[int, int]:
        from clinsum.charts.models import Note, Patient

        return Patient.objects.count(), Note.objects.count()

    def run(self, case: Case, number: int) -> dict:
        before = self.counts()
        outcome = {"crash": False, "rejected": False, "unclear": False, "detail": ""}
        if case.channel == "api":
            self._api(case, outcome)
        else:
            self._file(case, number, outcome)
        after = self.counts()
        outcome["partial"] = outcome["rejected"] and after != before
        outcome["accepted"] = not outcome["rejected"] and not outcome["crash"]
        return outcome

    def _api(self, case: Case, outcome: dict) -> None:
        try:
            response = self.client.post(
                "/api/fhir/Bundle",
                data=case.payload,
                content_type="application/fhir+json",
                HTTP_AUTHORIZATION=f"Bearer {self.token}",
            )
        except Exception as exc:  # noqa: BLE001 - that is what is counted
            outcome.update(crash=True, detail=type(exc).__name__)
            return
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if response.status_code >= 500 or not isinstance(body, dict):
            outcome.update(crash=True, detail=f"HTTP {response.status_code}")
            return
        if response.status_code >= 400:
            outcome["rejected"] = True
            issues = body.get("issue") or []
            outcome["unclear"] = body.get("resourceType") != "OperationOutcome" or not all(
                isinstance(i.get("diagnostics"), str) and "\n" not in i["diagnostics"] for i in issues
            )
            outcome["detail"] = f"HTTP {response.status_code}"

    def _file(self, case: Case, number: int, outcome: dict) -> None:
        from django.core.management import call_command
        from django.core.management.base import CommandError

        suffix = {"jsonl": ".jsonl", "csv": ".csv", "fhir-json": ".json", "fhir-ndjson": ".ndjson"}[case.channel]
        path = self.folder / f"case-{number}{suffix}"
        path.write_bytes(case.payload)
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command("ingest_notes", str(path), verbosity=0, stdout=out, stderr=err)
        except CommandError:
            outcome["rejected"] = True
        except Exception as exc:  # noqa: BLE001 - that is what is counted
            outcome.update(crash=True, detail=type(exc).__name__)
        finally:
            path.unlink()
        text = err.getvalue()
        if "Traceback" in text or "internal error" in text:
            outcome.update(crash=True, detail="internal error")
        if outcome["rejected"]:
            lines = [line.strip() for line in text.splitlines() if line.startswith("  ")]
            outcome["unclear"] = not lines or not all(line.startswith(path.name) for line in lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench faults_input")
    parser.add_argument("--limit", type=int, default=2_000, help="at most this many cases")
    parser.add_argument("--verbose", action="store_true", help="list every case that is not as expected")
    args = parser.parse_args(argv)

    cases = (table_cases() + fhir_cases())[: args.limit]
    bench_setup("clinsum_bench_faults")
    import logging

    logging.disable(logging.ERROR)  # the API's own error lines; the counts say what happened
    tally: dict[str, Counter] = {}
    bad: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        runner = Runner(Path(folder))
        for number, case in enumerate(cases):
            result = runner.run(case, number)
            counter = tally.setdefault(case.channel, Counter())
            counter["cases"] += 1
            counter["crashes"] += result["crash"]
            counter["partial writes"] += result["partial"]
            counter["accepted-but-invalid"] += result["accepted"] and not case.valid
            counter["valid-but-refused"] += case.valid and not result["accepted"]
            counter["unclear errors"] += result["unclear"]
            counter["rejected"] += result["rejected"]
            wrong = result["crash"] or result["partial"] or result["unclear"] or (result["accepted"] != case.valid)
            if wrong:
                bad.append(f"{case.channel:12} {case.name:40} {result}")
    seconds = time.perf_counter() - started
    columns = [
        "cases",
        "crashes",
        "partial writes",
        "accepted-but-invalid",
        "valid-but-refused",
        "unclear errors",
        "rejected",
    ]
    print("| channel | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    total: Counter = Counter()
    for channel in ("jsonl", "csv", "fhir-json", "fhir-ndjson", "api"):
        if channel in tally:
            total.update(tally[channel])
            print(f"| {channel} | " + " | ".join(str(tally[channel][c]) for c in columns) + " |")
    print("| **all** | " + " | ".join(str(total[c]) for c in columns) + " |")
    print(f"{len(cases)} cases in {seconds:.0f} s")
    if bad and args.verbose:
        print("\nnot as expected:")
        print("\n".join(bad))
    return 1 if total["crashes"] or total["partial writes"] or total["accepted-but-invalid"] else 0
