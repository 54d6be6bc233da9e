"""Turn files into records: a folder of .txt/.md notes, JSONL or CSV (mrn, note_type,
authored_at, author, text; optional title, author_role and patient columns family_name,
given_name, birth_date, sex, unit). Problems carry their line number."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator

from .records import NoteRecord, PatientRecord
from .services import IngestError

REQUIRED_COLUMNS = ("mrn", "note_type", "authored_at", "author", "text")
PATIENT_COLUMNS = ("family_name", "given_name", "birth_date", "sex", "unit")
TEXT_SUFFIXES = (".txt", ".md")


@dataclass
class ParsedFile:
    path: Path
    notes: list[NoteRecord] = field(default_factory=list)
    patients: list[PatientRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _record_from_mapping(row: dict, *, line: int, source: str) -> tuple[NoteRecord, PatientRecord | None]:
    missing = [c for c in REQUIRED_COLUMNS if c not in row or row[c] is None]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    try:
        authored_at = parse_datetime(str(row["authored_at"]))
    except ValueError as exc:
        raise ValueError(f"bad authored_at {str(row['authored_at'])[:40]!r}: {exc}") from None
    mrn = str(row["mrn"]).strip()
    note = NoteRecord(
        mrn=mrn, note_type=str(row["note_type"]).strip().lower(), authored_at=authored_at,
        text=str(row["text"]), author=str(row["author"] or ""), author_role=str(row.get("author_role") or ""),
        title=str(row.get("title") or ""), source=f"{source}:{line}", line=line,
    )
    patient = None
    if row.get("family_name"):
        birth = str(row.get("birth_date") or "").strip()
        patient = PatientRecord(
            mrn=mrn, family_name=str(row["family_name"]), given_name=str(row.get("given_name") or ""),
            birth_date=date.fromisoformat(birth) if birth else None,
            sex=str(row.get("sex") or "unknown").lower(), unit=str(row.get("unit") or ""),
        )
    return note, patient


def _rows_jsonl(text: str) -> Iterator[tuple[int, dict | None, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, f"invalid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(value, dict):
            yield number, None, "expected a JSON object"
            continue
        yield number, value, ""


def _rows_csv(text: str) -> Iterator[tuple[int, dict | None, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None:
        yield 1, None, "empty CSV file"
        return
    missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
    if missing:
        yield 1, None, f"CSV header lacks column(s): {', '.join(missing)}"
        return
    for row in reader:
        if None in row:
            yield reader.line_num, None, "more fields than the header has"
            continue
        yield reader.line_num, row, ""


def parse_table_file(path: Path) -> ParsedFile:
    """JSONL or CSV. Every bad line is reported; IngestError if any."""
    parsed = ParsedFile(path)
    text = decode_bytes(path.read_bytes(), name=path.name, warnings=parsed.warnings)
    rows = _rows_jsonl(text) if path.suffix.lower() in (".jsonl", ".ndjson") else _rows_csv(text)
    problems: list[tuple[int | None, str]] = []
    patients: dict[str, PatientRecord] = {}
    for line, row, error in rows:
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
            patients.setdefault(patient.mrn, patient)
    if problems:
        raise IngestError(problems)
    parsed.patients = list(patients.values())
    return parsed


def parse_text_file(path: Path, *, mrn: str, note_type: str, author: str, authored_at: datetime) -> ParsedFile:
    """One plain-text note; the title is the file name."""
    parsed = ParsedFile(path)
    text = decode_bytes(path.read_bytes(), name=path.name, warnings=parsed.warnings)
    parsed.notes.append(
        NoteRecord(mrn=mrn, note_type=note_type, authored_at=authored_at, text=text, author=author,
                   title=path.stem.replace("-", " ").replace("_", " "), source=path.name, line=None)
    )
    return parsed


def files_in(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (*TEXT_SUFFIXES, ".jsonl", ".ndjson", ".csv"))
    raise FileNotFoundError(f"no such file or folder: {path}")
