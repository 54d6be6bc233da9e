"""manage.py ingest_notes PATH [PATH ...]: folders or file of .txt/.md notes, JSONL/CSV tables, FHIR R4
(NDJSON bulk export, Bundle or single resource, recognised by content) or the nursing-notes
corpus. One transaction per file: a file with any problem is rejected whole and listed."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from clinsum.audit.services import audit_record
from clinsum.charts.indexing import notes_index
from clinsum.charts.ingest import (
    ParsedFile,
    file_kind,
    files_in,
    parse_datetime,
    parse_fhir_file,
    parse_nursing_corpus_file,
    parse_table_file,
    parse_text_file,
)
from clinsum.charts.models import Patient
from clinsum.charts.records import (
    PatientRecord,
    note_type_normalise,
    note_types_accepted,
    patient_problems,
    sex_normalise,
)
from clinsum.charts.services import EMBED_BATCH, IngestError, notes_ingest


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:
        return 0


def parsed_location(parsed: ParsedFile | None, kind: str) -> str:
    return parsed.location if parsed else ("entry" if kind == "fhir-json" else "line")


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


PER_FILE_LINES_MAX = 20  # more files than this: one line per file only with --verbosity 2


@contextlib.contextmanager
def console_logs_at(level: int) -> Iterator[None]:
    """The app's console log handlers (settings.LOGGING) at `level` for the duration: the
    command's stdout/stderr are for a person, and INFO log lines would cut through the progress
    bar and the messages. Other handlers (files, test capture) are left as they are."""
    names = set(settings.LOGGING.get("handlers", {}))
    handlers = [
        h
        for h in logging.getLogger().handlers
        if h.get_name() in names and isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    ]
    before = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(max(handler.level, level))
    try:
        yield
    finally:
        for handler, old in zip(handlers, before, strict=True):
            handler.setLevel(old)


class Command(BaseCommand):
    help = "Ingest notes from .txt/.md files, JSONL/CSV tables, FHIR R4 NDJSON/JSON, or the nursing-notes corpus."

    def add_arguments(self, parser):
        parser.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="files or folders")
        parser.add_argument(
            "--mrn", help="patient of every .txt/.md note (must exist, or pass --create-patient, or --patient-per-file)"
        )
        parser.add_argument(
            "--create-patient",
            action="store_true",
            help="create the --mrn patient if it does not exist: needs --family-name; "
            "--given-name, --birth-date YYYY-MM-DD, --sex F/M/other/unknown and --unit are optional",
        )
        parser.add_argument("--family-name", default="", help="with --create-patient")
        parser.add_argument("--given-name", default="", help="with --create-patient")
        parser.add_argument("--birth-date", default="", help="with --create-patient: YYYY-MM-DD")
        parser.add_argument("--sex", default="", help="with --create-patient: F, M, other or unknown")
        parser.add_argument(
            "--patient-per-file",
            action="store_true",
            help="one new patient per .txt/.md file, MRN derived from the file name (test corpora); "
            "also needed to create the patients of the nursing-notes corpus",
        )
        parser.add_argument(
            "--note-type", default="other", help="note type of .txt/.md notes (e.g. progress, nursing-note, H&P)"
        )
        parser.add_argument("--author", default="", help="author of .txt/.md notes")
        parser.add_argument("--authored-at", default="", help="ISO date-time of .txt/.md notes (default: now)")
        parser.add_argument(
            "--unit",
            default="",
            help="unit (ward code) of patients created from these files; "
            "a patient with no unit is seen by no clinician (manage.py patient_place places one)",
        )
        parser.add_argument(
            "--embed-now",
            action="store_true",
            help="chunk and embed in this process (no worker) and report chunks written",
        )

    def handle(self, *args, **opts):
        # INFO log lines (JSON) would interleave with the bar and the counts; -v 2 keeps them.
        with console_logs_at(logging.INFO if opts["verbosity"] >= 2 else logging.WARNING):
            self._run(**opts)

    def _new_patient(self, *, mrn: str, opts: dict) -> PatientRecord:
        """The --create-patient record, validated like a file's patient columns."""
        problems = []
        if not opts["family_name"].strip():
            problems.append("--family-name is required")
        birth_date = None
        if opts["birth_date"].strip():
            try:
                birth_date = date.fromisoformat(opts["birth_date"].strip())
            except ValueError:
                problems.append("--birth-date: not a date (YYYY-MM-DD)")
        sex = sex_normalise(opts["sex"])
        if sex is None:
            problems.append("--sex: use F, M, female, male, other or unknown")
        record = PatientRecord(
            mrn=mrn,
            family_name=opts["family_name"].strip(),
            given_name=opts["given_name"].strip(),
            birth_date=birth_date,
            sex=sex or "unknown",
            unit=opts["unit"].strip(),
        )
        problems += patient_problems(record)
        if problems:
            raise CommandError("--create-patient: " + "; ".join(problems))
        return record

    def _run(
        self, *, paths: list[Path], mrn, patient_per_file, note_type, author, authored_at, unit, embed_now, **opts
    ):
        try:
            files = sorted({file for path in paths for file in files_in(path)})
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        if not files:
            raise CommandError(f"no note files (.txt .md .jsonl .ndjson .csv .json) in {', '.join(map(str, paths))}")
        kinds: dict[Path, str] = {}
        unreadable: dict[Path, str] = {}
        for file in files:
            try:
                kinds[file] = file_kind(file)
            except OSError as exc:  # reported with the other rejected files; the run goes on
                kinds[file], unreadable[file] = "unreadable", exc.strerror or type(exc).__name__
        if any(k == "text" for k in kinds.values()) and not (mrn or patient_per_file):
            raise CommandError("plain-text notes need --mrn MRN (or --patient-per-file)")
        stored_type = note_type_normalise(note_type)
        if stored_type is None:
            raise CommandError(f"--note-type: unknown note type; accepted: {note_types_accepted()}")
        note_type = stored_type
        new_patient = None
        if opts["create_patient"]:
            if not mrn:
                raise CommandError("--create-patient needs --mrn MRN")
            new_patient = self._new_patient(mrn=mrn, opts={**opts, "unit": unit})
        elif mrn and not patient_per_file and any(k == "text" for k in kinds.values()):
            if not Patient.objects.filter(mrn=mrn).exists():
                raise CommandError(
                    f"no patient with MRN {mrn}: nothing was stored. To create the patient with these notes, "
                    "add --create-patient --family-name NAME [--given-name NAME] [--birth-date YYYY-MM-DD] "
                    "[--sex F|M] --unit WARD (without a unit no clinician sees the patient)"
                )
        if any(k == "nursing-corpus" for k in kinds.values()) and not patient_per_file:
            raise CommandError(
                "the nursing-notes corpus names its own patients: pass --patient-per-file to create them"
            )
        # Patients before the notes that refer to them (FHIR bulk exports put them in their own file).
        files.sort(key=lambda f: (0 if kinds[f].startswith("fhir") and f.name.startswith("Patient") else 1, str(f)))
        try:
            when = parse_datetime(authored_at) if authored_at else timezone.now()
        except ValueError as exc:
            raise CommandError(f"--authored-at: {exc}") from None
        started = time.monotonic()
        totals = {
            "new": 0,
            "unchanged": 0,
            "amended": 0,
            "rejected": 0,
            "rejected_files": 0,
            "patients_new": 0,
            "chunks": 0,
            "queued": 0,
        }
        per_file = len(files) <= PER_FILE_LINES_MAX or opts["verbosity"] >= 2
        ignored: dict[str, int] = {}
        quiet = opts["verbosity"] == 0
        progress = tqdm(
            total=sum(_size(f) for f in files),
            unit="B",
            unit_scale=True,
            desc="ingest",
            disable=quiet or len(files) < 2 and _size(files[0]) < 1 << 20,
        )
        for file in files:
            kind = kinds[file]
            parsed = None
            if file in unreadable:
                totals["rejected_files"] += 1
                self._warn(f"{file}: cannot read ({unreadable[file]})")
                continue
            try:
                parsed = self._parse(
                    file,
                    kind,
                    mrn=mrn,
                    patient_per_file=patient_per_file,
                    note_type=note_type,
                    author=author,
                    authored_at=when,
                    unit=unit,
                    new_patient=new_patient,
                )
                result = notes_ingest(notes=parsed.notes, patients=parsed.patients, enqueue=not embed_now)
            except IngestError as exc:
                totals["rejected_files"] += 1
                # Every note of a rejected file is refused: the parser counted its records when it
                # stopped there; the service refuses every note it was given.
                if parsed is not None:
                    refused = len(parsed.notes)
                elif exc.records is not None:
                    refused = exc.records
                else:
                    refused = len({line for line, _ in exc.problems})
                totals["rejected"] += refused
                label = "entry " if parsed_location(parsed, kind) == "entry" else ""
                what = "record" if kind.startswith("fhir") and parsed is None else "note"
                self._warn(f"{file}: rejected, nothing of it was stored ({plural(refused, what)} refused)")
                for line, message in exc.problems:
                    where = f":{label}{line}" if line is not None else ""
                    self._warn(f"  {file.name}{where}: {message}")
                progress.update(_size(file))
                continue
            except OSError as exc:
                totals["rejected_files"] += 1
                self._warn(f"{file}: cannot read ({exc.strerror})")
                continue
            except Exception as exc:  # noqa: BLE001 - one line, never a traceback; the run goes on
                # Only the class: a database or parser message may quote the offending value.
                totals["rejected_files"] += 1
                self._warn(f"{file}: rejected, nothing of it was stored (internal error: {type(exc).__name__})")
                progress.update(_size(file))
                continue
            for warning in parsed.warnings:
                self._warn(f"warning: {warning}")
            for resource_type, count in parsed.ignored.items():
                ignored[resource_type] = ignored.get(resource_type, 0) + count
            totals["new"] += result.notes_new
            totals["unchanged"] += result.notes_unchanged
            totals["amended"] += result.notes_amended
            totals["patients_new"] += result.patients_new
            if not embed_now:
                totals["queued"] += len(result.note_ids)
            if per_file:
                with tqdm.external_write_mode():
                    self.stdout.write(
                        f"{file}: stored {result.notes_new:,} new, {result.notes_amended:,} amended, "
                        f"{result.notes_unchanged:,} already stored; {plural(result.patients_new, 'new patient')}"
                    )
            audit_record(
                action="ingest", object_type="file", object_id=hashlib.sha1(str(file).encode()).hexdigest()[:16]
            )
            progress.update(_size(file))
            if embed_now and result.note_ids:
                totals["chunks"] += self._embed(result.note_ids, quiet=quiet)
        progress.close()
        seconds = time.monotonic() - started
        # Files first: "(in 0 file(s))" after a good folder read as if no file had been read.
        report = (
            f"Total: {plural(len(files), 'file')} read, {totals['rejected_files']:,} rejected; "
            f"notes new {totals['new']:,}, unchanged {totals['unchanged']:,}, amended {totals['amended']:,}, "
            f"refused {totals['rejected']:,}; "
            f"patients new {totals['patients_new']:,}; "
        )
        if embed_now:
            report += f"chunks written {totals['chunks']}; "
        elif totals["queued"]:
            report += f"{plural(totals['queued'], 'note')} queued, embedding continues in the worker; "
        report += f"{seconds:.1f} s"
        if ignored:
            report += "\nFHIR resources read but not stored: " + ", ".join(
                f"{name} {count}" for name, count in sorted(ignored.items())
            )
        self.stdout.write(report)
        if totals["rejected_files"]:
            raise CommandError(f"{totals['rejected_files']} file(s) rejected")

    def _warn(self, message: str) -> None:
        with tqdm.external_write_mode():  # the progress bar steps aside for the line
            self.stderr.write(message)

    def _parse(
        self,
        file: Path,
        kind: str,
        *,
        mrn,
        patient_per_file,
        note_type,
        author,
        authored_at,
        unit,
        new_patient: PatientRecord | None = None,
    ) -> ParsedFile:
        if kind == "text":
            file_mrn = mrn or "FILE-" + hashlib.sha1(file.name.encode()).hexdigest()[:12].upper()
            parsed = parse_text_file(file, mrn=file_mrn, note_type=note_type, author=author, authored_at=authored_at)
            if new_patient is not None and not patient_per_file:
                parsed.patients.append(new_patient)
            elif patient_per_file:
                parsed.patients.append(PatientRecord(mrn=file_mrn, family_name=file.stem[:120], unit=unit))
            return parsed
        if kind.startswith("fhir"):
            return parse_fhir_file(file, kind=kind, unit=unit)
        if kind == "nursing-corpus":
            return parse_nursing_corpus_file(file, authored_at=authored_at, unit=unit)
        return parse_table_file(file)

    def _embed(self, note_ids: list[int], *, quiet: bool) -> int:
        written = 0
        batch = max(EMBED_BATCH, 64)  # bigger batches here: no task time limit to respect
        with tqdm(total=len(note_ids), unit="note", desc="embed", disable=quiet, leave=False) as bar:
            for start in range(0, len(note_ids), batch):
                ids = note_ids[start : start + batch]
                written += notes_index(note_ids=ids)
                bar.update(len(ids))
        return written
