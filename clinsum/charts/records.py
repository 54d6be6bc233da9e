"""Plain records that parsers and generators produce and the ingest service consumes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class PatientRecord:
    mrn: str
    family_name: str
    given_name: str = ""
    birth_date: date | None = None
    sex: str = "unknown"  # female / male / other / unknown
    unit: str = ""
    source_id: str = ""  # upstream identifier (FHIR Patient.id); blank when the source has none
    line: int | None = None  # where it came from, for error messages


@dataclass(frozen=True)
class NoteRecord:
    mrn: str
    note_type: str  # a NoteType value (files map aliases first: records.note_type_normalise)
    authored_at: datetime  # timezone-aware
    text: str
    author: str = ""
    author_role: str = ""
    title: str = ""
    source: str = ""  # file name and line, or upstream identifier
    line: int | None = None  # where it came from, for error messages
    source_id: str = ""  # upstream identifier (FHIR DocumentReference.id): same id + new text = amendment
    # The patient by upstream id (FHIR Patient.id) when the source gives no MRN on the note.
    patient_source_id: str = ""


# --- validation: what every source (files, FHIR, the API) must satisfy before the database -----

MAX_JSON_DEPTH = 64  # FHIR resources nest about 10 levels; deeper is hostile or broken
AUTHORED_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
BIRTH_EARLIEST = date(1880, 1, 1)

_BRACKETS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_too_deep(raw: bytes | str, *, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does this JSON text nest objects/arrays more than `limit` levels (brackets inside strings
    do not count)? Checked before json.loads, whose recursion would otherwise overflow."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKETS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def json_loads(raw: bytes | str, *, limit: int = MAX_JSON_DEPTH) -> object:
    """json.loads with a nesting limit: ValueError (not RecursionError) for too deep a document."""
    if json_too_deep(raw, limit=limit):
        raise ValueError(f"JSON is nested more than {limit} levels deep")
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError(f"JSON is nested more than {limit} levels deep") from None


def hospital_zone() -> ZoneInfo:
    from django.conf import settings

    return ZoneInfo(settings.TIME_ZONE)


def text_problem(label: str, value: object, max_length: int | None) -> str | None:
    """Why this value cannot be stored in a text column, or None. Never quotes the value."""
    if not isinstance(value, str):
        return f"{label} must be a string, not {type(value).__name__}"
    if "\x00" in value:
        return f"{label} contains a NUL byte"
    if max_length is not None and len(value) > max_length:
        return f"{label} has {len(value):,} characters; the limit is {max_length:,}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{label} contains an unpaired surrogate (not valid Unicode)"
    return None


def _max_length(model, name: str) -> int | None:
    return model._meta.get_field(name).max_length


def authored_at_problem(value: object) -> str | None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        return "authored_at must be a date-time with a time zone"
    latest = datetime.now(UTC) + timedelta(days=1)
    if not AUTHORED_EARLIEST <= value <= latest:
        return f"authored_at is outside {AUTHORED_EARLIEST:%Y-%m-%d} .. {latest:%Y-%m-%d} (now + 1 day)"
    return None


def birth_date_problem(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        return "birth_date must be a date"
    today = datetime.now(hospital_zone()).date()
    if not BIRTH_EARLIEST <= value <= today:
        return f"birth_date is outside {BIRTH_EARLIEST:%Y-%m-%d} .. {today:%Y-%m-%d}"
    return None


# --- vocabulary: the note types and sexes people write, mapped to the stored values -------------

# Spellings seen in exports and typed by operators, compared after note_type_key(); the stored
# values and their labels ("progress", "Progress note") are accepted as well.
NOTE_TYPE_ALIASES = {
    "nursing": "nursing",
    "nurse note": "nursing",
    "nursing note": "nursing",
    "nursing progress note": "nursing",
    "progress": "progress",
    "progress note": "progress",
    "daily progress note": "progress",
    "h&p": "history_physical",
    "h & p": "history_physical",
    "h and p": "history_physical",
    "hp": "history_physical",
    "history and physical": "history_physical",
    "history and physical note": "history_physical",
    "admission note": "history_physical",
    "consult": "consult",
    "consult note": "consult",
    "consultation": "consult",
    "consultation note": "consult",
    "discharge summary": "discharge_summary",
    "discharge": "discharge_summary",
    "discharge instructions": "discharge_instructions",
    "ed note": "emergency",
    "er note": "emergency",
    "emergency": "emergency",
    "emergency department note": "emergency",
    "op note": "operative",
    "operative": "operative",
    "operative note": "operative",
    "surgical operation note": "operative",
    "brief operative note": "operative",
    "other": "other",
    # LOINC document type codes (as in FHIR DocumentReference.type)
    "34117-2": "history_physical",
    "11506-3": "progress",
    "34746-8": "nursing",
    "11488-4": "consult",
    "18842-5": "discharge_summary",
    "34111-5": "emergency",
    "11504-8": "operative",
}


def note_type_key(value: str) -> str:
    return " ".join(value.replace("-", " ").replace("_", " ").casefold().split())


def note_type_normalise(value: str) -> str | None:
    """The stored note type for what a file or operator wrote ("nursing-note", "H&P",
    "Discharge summary", a LOINC code), or None when it is not one we know."""
    from .models import NoteType

    key = note_type_key(value)
    for stored, label in NoteType.choices:
        if key in (note_type_key(stored), note_type_key(label)):
            return stored
    return NOTE_TYPE_ALIASES.get(key) or NOTE_TYPE_ALIASES.get(value.strip())  # LOINC codes keep their "-"


def note_types_accepted() -> str:
    """The accepted note types for a message: stored value and label."""
    from .models import NoteType

    return ", ".join(f"{value} ({label})" for value, label in NoteType.choices)


SEX_ALIASES = {"f": "female", "w": "female", "m": "male", "o": "other", "u": "unknown", "": "unknown"}


def sex_normalise(value: str) -> str | None:
    """female / male / other / unknown for what a file wrote ("F", "Male", ""), or None."""
    from .models import Sex

    key = value.strip().casefold()
    key = SEX_ALIASES.get(key, key)
    return key if key in Sex.values else None


def patient_problems(record: PatientRecord) -> list[str]:
    """Everything wrong with a patient record for the Patient table (types, NUL bytes, column
    lengths, birth date range)."""
    from .models import Patient, Sex

    problems = []
    for name in ("mrn", "family_name", "given_name", "unit", "source_id"):
        problem = text_problem(name, getattr(record, name), _max_length(Patient, name))
        if problem:
            problems.append(problem)
    if isinstance(record.mrn, str) and not record.mrn.strip():
        problems.append("missing MRN")
    if record.sex not in ("", *Sex.values):
        problems.append(f"sex must be one of {', '.join(Sex.values)}")
    problem = birth_date_problem(record.birth_date)
    if problem:
        problems.append(problem)
    return problems


def note_problems(record: NoteRecord) -> list[str]:
    """Everything wrong with a note record's fields for the Note table: types, NUL bytes, column
    lengths and the authored_at range (text length and emptiness are the ingest service's)."""
    from .models import Note, Patient

    problems = []
    for name in ("mrn", "author", "author_role", "title", "source_id", "patient_source_id", "note_type"):
        limit = (
            _max_length(Patient, "source_id")
            if name == "patient_source_id"
            else _max_length(Patient, "mrn")
            if name == "mrn"
            else _max_length(Note, name)
        )
        problem = text_problem(name, getattr(record, name), limit)
        if problem:
            problems.append(problem)
    if not isinstance(record.text, str):
        problems.append(f"text must be a string, not {type(record.text).__name__}")
    elif "\x00" in record.text:
        problems.append("note text contains NUL bytes (binary file?)")
    else:
        problem = text_problem("text", record.text, None)
        if problem:
            problems.append(problem)
    problem = authored_at_problem(record.authored_at)
    if problem:
        problems.append(problem)
    return problems
