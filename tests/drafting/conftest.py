"""Drafting fixtures: one patient of the nursing-notes corpus, on the matrix nurse's unit; a
discharged patient of the demo ward with its ground truth."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clinsum.charts.indexing import notes_index
from clinsum.charts.ingest import parse_nursing_corpus_file
from clinsum.charts.models import Note, Patient
from clinsum.charts.records import PatientRecord
from clinsum.charts.services import notes_ingest
from tests.conftest import shared_data
from tests.demo_charts import demo_chart_load, discharged_patient_with_a_stopped_drug

CORPUS_PATIENT = "8"  # five ICU nursing notes: neuro/cardiac/resp/gi/gu sections, a plan, labs
MRN = f"DEID-{CORPUS_PATIENT}"


def corpus_patient_ingest(*, unit: str = "4W", enqueue: bool = False) -> Patient:
    """Corpus patient 8's notes through the real parser and ingest service."""
    parsed = parse_nursing_corpus_file(
        shared_data("nursing-notes", "nursing-notes.txt"),
        authored_at=datetime(2026, 11, 20, 7, 0, tzinfo=UTC),
    )
    notes = [n for n in parsed.notes if n.mrn == MRN]
    assert len(notes) == 5
    notes_ingest(
        notes=notes,
        patients=[PatientRecord(mrn=MRN, family_name="Corpus patient 8", given_name="Eight", unit=unit)],
        enqueue=enqueue,
    )
    return Patient.objects.get(mrn=MRN)


@pytest.fixture
def nursing_chart(db):
    patient = corpus_patient_ingest()
    notes_index(note_ids=list(patient.notes.values_list("pk", flat=True)))
    return patient


@pytest.fixture
def discharged(db):
    mrn, facts = discharged_patient_with_a_stopped_drug()
    patient = demo_chart_load(mrn, enqueue=False)
    notes_index(note_ids=list(Note.objects.filter(patient=patient).values_list("pk", flat=True)))
    return patient, facts
