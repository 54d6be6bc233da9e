"""Turn files into records: a folder of .txt/.md notes, JSONL or CSV (mrn, note_type,
authored_at, author, text; optional title, author_role and patient columns family_name,
given_name, birth_date, sex, unit), FHIR R4 (NDJSON bulk export, Bundle or single resource,
recognised by content: a JSON object with a resourceType; see fhir.py), and the PhysioNet
nursing-notes corpus format (START_OF_RECORD=...). Problems carry their line number (or bundle
entry index).

A file is one transaction: any problem rejects the whole file, every problem is listed, and
nothing of it is stored. For NDJSON bulk exports that means a bad line rejects its file; the
operator fixes or removes the line and runs the same command again (re-ingesting is safe:
unchanged notes are recognised)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings

from .fhir import FhirParsed, fhir_json_parse, fhir_ndjson_parse, is_fhir_json
from .models import NoteType
from .records import (
    NoteRecord,
    PatientRecord,
    hospital_zone,
    json_loads,
    note_problems,
    note_type_normalise,
    note_types_accepted,
    patient_problems,
    sex_normalise,
)
from .services import IngestError

REQUIRED_COLUMNS = ("mrn", "note_type", "authored_at", "author", "text")
TEXT_SUFFIXES = (".txt", ".md")
TABLE_SUFFIXES = (".jsonl", ".ndjson", ".csv")
JSON_SUFFIXES = (".json",)
NURSING_CORPUS_MARK = b"START_OF_RECORD="


@dataclass
class ParsedFile:
    path: Path
    notes: list[NoteRecord] = field(default_factory=list)
    patients: list[PatientRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    location: str = "line"  # what problem numbers count: "line" or (FHIR bundles) "entry"
    ignored: Counter = field(default_factory=Counter)  # FHIR resource types read but not stored


def decode_bytes(raw: bytes, *, name: str, warnings: list[str]) -> str:
    """UTF-8 (with or without BOM); otherwise Windows-1252, which every byte decodes, with a
    warning so the operator knows the file was not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        warnings.append(f"{name}: not UTF-8 (first bad byte at offset {exc.start}); read as Windows-1252")
        return raw.decode("cp1252", errors="replace")


def parse_datetime(value: str) -> datetime:
    value = value.strip()
    if not value:
        raise ValueError("authored_at is empty")
    if len(value) == 10:
        parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
    else:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:  # no zone given: the hospital's (HOSPITAL_TIME_ZONE)
        parsed = parsed.replace(tzinfo=hospital_zone())
    return parsed


PATIENT_COLUMNS = ("family_name", "given_name", "birth_date", "sex", "unit")
STRING_FIELDS = (*REQUIRED_COLUMNS, "title", "author_role", *PATIENT_COLUMNS)


def _field(row: dict, name: str) -> str:
    """The field as a string ("" when absent or null); TypeError for a list, object or number."""
    value = row.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    return value


def _record_from_mapping(row: dict, *, line: int, source: str) -> tuple[NoteRecord, PatientRecord | None]:
    missing = [c for c in REQUIRED_COLUMNS if c not in row or row[c] is None]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    wrong = [
        f"{name} must be a string, not {type(row[name]).__name__}"
        for name in STRING_FIELDS
        if name in row and row[name] is not None and not isinstance(row[name], str)
    ]
    if wrong:
        raise TypeError("; ".join(wrong))
    try:
        authored_at = parse_datetime(_field(row, "authored_at"))
    except ValueError as exc:  # the message names the field, never quotes the value
        raise ValueError(f"bad authored_at: {exc}") from None
    mrn = _field(row, "mrn").strip()
    note_type = note_type_normalise(_field(row, "note_type"))
    if note_type is None:  # never stored as "other" without a word: the operator fixes the file
        raise ValueError(f"unknown note_type; accepted: {note_types_accepted()}")
    note = NoteRecord(
        mrn=mrn,
        note_type=note_type,
        authored_at=authored_at,
        text=_field(row, "text"),
        author=_field(row, "author"),
        author_role=_field(row, "author_role"),
        title=_field(row, "title"),
        source=f"{source}:{line}",
        line=line,
    )
    problems = note_problems(note)
    patient = None
    if _field(row, "family_name").strip():
        birth = _field(row, "birth_date").strip()
        try:
            birth_date = date.fromisoformat(birth) if birth else None
        except ValueError:
            raise ValueError("bad birth_date: not an ISO date (YYYY-MM-DD)") from None
        sex = sex_normalise(_field(row, "sex"))
        if sex is None:
            raise ValueError("bad sex: use F, M, female, male, other or unknown")
        patient = PatientRecord(
            mrn=mrn,
            family_name=_field(row, "family_name").strip(),
            given_name=_field(row, "given_name").strip(),
            birth_date=birth_date,
            sex=sex,
            unit=_field(row, "unit").strip(),
            line=line,
        )
        problems += [f"patient: {p}" for p in patient_problems(patient) if p not in problems]
    if problems:
        raise ValueError("; ".join(problems))
    return note, patient


def _rows_jsonl(text: str) -> Iterator[tuple[int, dict | None, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json_loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"invalid JSON ({exc.msg} at column {exc.colno})"
            continue
        except ValueError as exc:  # nested too deeply
            yield number, None, str(exc)
            continue
        if not isinstance(value, dict):
            yield number, None, "expected a JSON object"
            continue
        yield number, value, ""


def _rows_csv(text: str) -> Iterator[tuple[int, dict | None, str]]:
    # A field may be as long as a note may be (csv's own default limit is 131,072).
    csv.field_size_limit(max(csv.field_size_limit(), settings.NOTE_MAX_CHARS + 1))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        yield 1, None, f"unreadable CSV header ({exc})"
        return
    if fieldnames is None:
        yield 1, None, "empty CSV file"
        return
    missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
    if missing:
        yield 1, None, f"CSV header lacks column(s): {', '.join(missing)}"
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over the limit; the reader cannot go on
            yield reader.line_num, None, f"unreadable CSV ({exc})"
            return
        if None in row:
            yield reader.line_num, None, "more fields than the header has"
            continue
        yield reader.line_num, row, ""


def parse_table_file(path: Path) -> ParsedFile:
    """JSONL or CSV. Every bad line is reported; IngestError if any."""
    parsed = ParsedFile(path)
    text = decode_bytes(path.read_bytes(), name=path.name, warnings=parsed.warnings)
    is_csv = path.suffix.lower() not in (".jsonl", ".ndjson")
    rows = _rows_csv(text) if is_csv else _rows_jsonl(text)
    problems: list[tuple[int | None, str]] = []
    patients: dict[str, PatientRecord] = {}
    records = 0
    for line, row, error in rows:
        if not (is_csv and line == 1):  # line 1 of a CSV is its header, not a note
            records += 1
        if error:
            problems.append((line, error))
            continue
        try:
            note, patient = _record_from_mapping(row, line=line, source=path.name)
        except (ValueError, TypeError) as exc:
            problems.append((line, str(exc)))
            continue
        parsed.notes.append(note)
        if patient is not None:
            first = patients.setdefault(patient.mrn, patient)
            differ = _demographics_differ(first, patient)
            if differ:
                problems.append((line, f"patient {patient.mrn}: {differ} differ from line {first.line} of this file"))
    if not problems and not parsed.notes:
        problems.append((None, "no notes in this file (empty?)"))
    if problems:
        raise IngestError(problems, records=records)
    parsed.patients = list(patients.values())
    return parsed


def _demographics_differ(first: PatientRecord, other: PatientRecord) -> str:
    """One MRN with two people's demographics in one file (a wrong MRN would merge them)."""
    differ = []
    if first.family_name.casefold() != other.family_name.casefold():
        differ.append("family name")
    if first.birth_date and other.birth_date and first.birth_date != other.birth_date:
        differ.append("birth date")
    if first.sex not in ("", "unknown") and other.sex not in ("", "unknown") and first.sex != other.sex:
        differ.append("sex")
    return ", ".join(differ)


def parse_text_file(path: Path, *, mrn: str, note_type: str, author: str, authored_at: datetime) -> ParsedFile:
    """One plain-text note; the title is the file name."""
    parsed = ParsedFile(path)
    text = decode_bytes(path.read_bytes(), name=path.name, warnings=parsed.warnings)
    parsed.notes.append(
        NoteRecord(
            mrn=mrn,
            note_type=note_type,
            authored_at=authored_at,
            text=text,
            author=author,
            title=path.stem.replace("-", " ").replace("_", " "),
            source=path.name,
            line=None,
        )
    )
    return parsed


def file_kind(path: Path) -> str:
    """What a file holds, by its content where the suffix is ambiguous: "fhir-ndjson",
    "fhir-json", "nursing-corpus", "table" (JSONL/CSV) or "text"."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    suffix = path.suffix.lower()
    if head.lstrip(b"\xef\xbb\xbf").startswith(NURSING_CORPUS_MARK):
        return "nursing-corpus"
    if suffix in (".jsonl", ".ndjson") and is_fhir_json(head):
        return "fhir-ndjson"
    if suffix in JSON_SUFFIXES:
        return "fhir-json"
    if suffix in TABLE_SUFFIXES:
        return "table"
    return "text"


def parse_fhir_file(path: Path, *, kind: str, unit: str = "") -> ParsedFile:
    """A FHIR NDJSON export (read line by line) or a JSON Bundle/resource. IngestError lists
    every bad line or entry."""
    if kind == "fhir-ndjson":
        with path.open("rb") as handle:
            result = fhir_ndjson_parse(handle, source=path.name, unit=unit)
    else:
        size = path.stat().st_size
        if size > settings.FHIR_MAX_BYTES:  # refused before reading or parsing
            raise IngestError([(None, f"file has {size:,} bytes; the limit is {settings.FHIR_MAX_BYTES:,}")])
        result = fhir_json_parse(path.read_bytes(), source=path.name, unit=unit)
    return _parsed_from_fhir(path, result)


def _parsed_from_fhir(path: Path, result: FhirParsed) -> ParsedFile:
    if result.problems:
        bad = {line for line, _ in result.problems if line is not None}
        raise IngestError(result.problems, records=len(result.notes) + len(result.patients) + len(bad))
    return ParsedFile(
        path,
        notes=result.notes,
        patients=result.patients,
        warnings=result.warnings,
        location=result.location,
        ignored=result.ignored,
    )


def parse_nursing_corpus_file(
    path: Path, *, authored_at: datetime, mrn_prefix: str = "DEID-", unit: str = ""
) -> ParsedFile:
    """The PhysioNet deid nursing-notes corpus: records `START_OF_RECORD=<patient>||||<note>||||`,
    the text, then `||||END_OF_RECORD`. The corpus has no dates, so note n of a patient is
    dated `authored_at` + n minutes (order kept); patients get MRN `<prefix><patient>`. Each
    note's upstream id is `<patient>-<note>`, so re-ingesting the corpus changes nothing."""
    parsed = ParsedFile(path)
    text = decode_bytes(path.read_bytes(), name=path.name, warnings=parsed.warnings)
    problems: list[tuple[int | None, str]] = []
    patients: dict[str, PatientRecord] = {}
    line = 1
    for record in text.split("START_OF_RECORD=")[1:]:
        header, _, rest = record.partition("\n")
        fields = header.split("||||")
        body, closed, _ = rest.partition("||||END_OF_RECORD")
        if len(fields) < 2 or not fields[0].strip().isdigit() or not fields[1].strip().isdigit():
            problems.append((line, "record header is not <patient>||||<note>||||"))
        elif not closed:
            problems.append((line, "record has no ||||END_OF_RECORD"))
        else:
            patient, number = fields[0].strip(), int(fields[1])
            mrn = f"{mrn_prefix}{patient}"
            patients.setdefault(mrn, PatientRecord(mrn=mrn, family_name=f"Corpus patient {patient}", unit=unit))
            parsed.notes.append(
                NoteRecord(
                    mrn=mrn,
                    note_type=NoteType.NURSING,
                    authored_at=authored_at + timedelta(minutes=number),
                    text=body.strip("\n"),
                    author="",
                    author_role="Nurse",
                    title=f"Nursing note {number}",
                    source=f"{path.name}:{line}",
                    line=line,
                    source_id=f"{patient}-{number}",
                )
            )
        line += record.count("\n")
    if problems:
        raise IngestError(problems)
    parsed.patients = list(patients.values())
    return parsed


def files_in(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        suffixes = (*TEXT_SUFFIXES, *TABLE_SUFFIXES, *JSON_SUFFIXES)
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
    raise FileNotFoundError(f"no such file or folder: {path}")
