"""The demo ward (the Django-free top-level ``demo`` package) stored through ClinSum's own ingest
service, as any other source of notes would be. Used by ``manage.py seed_demo``, tests and benches.

It lives at the project level, not in an app: the charts app does not know the demo exists."""

from __future__ import annotations

from dataclasses import asdict

from clinsum.charts.records import NoteRecord, PatientRecord
from clinsum.charts.services import IngestResult, notes_ingest
from demo import DemoNote, DemoPatient


def demo_records_ingest(*, patients: list[DemoPatient], notes: list[DemoNote], enqueue: bool = True) -> IngestResult:
    """Store demo patients and notes all-or-nothing (see ``notes_ingest``)."""
    return notes_ingest(
        patients=[PatientRecord(**asdict(patient)) for patient in patients],
        notes=[NoteRecord(**asdict(note)) for note in notes],
        enqueue=enqueue,
    )
