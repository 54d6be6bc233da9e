"""Asking fixtures: a discharged patient of the demo ward (a drug stopped before discharge)
with its ground truth, indexed; a helper that asks and answers in this process."""

from __future__ import annotations

import pytest

from clinsum.charts.indexing import notes_index
from clinsum.charts.models import Note
from tests.demo_charts import demo_chart_load, discharged_patient_with_a_stopped_drug


@pytest.fixture
def discharged(db):
    mrn, facts = discharged_patient_with_a_stopped_drug()
    patient = demo_chart_load(mrn, enqueue=False)
    notes_index(note_ids=list(Note.objects.filter(patient=patient).values_list("pk", flat=True)))
    return patient, facts


def answered(user, patient, text: str):
    from clinsum.asking.services import question_ask, question_run

    question = question_ask(user=user, patient_id=patient.pk, text=text, enqueue=False)
    return question_run(question_id=question.pk)


def shown(question) -> list[str]:
    return [s.text for s in question.sentences.filter(verdict="supported").order_by("ordinal")]
