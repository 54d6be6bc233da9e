"""Plain records that parsers and generators produce and the ingest service consumes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


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
    note_type: str  # a NoteType value; unknown types are stored as "other"
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
