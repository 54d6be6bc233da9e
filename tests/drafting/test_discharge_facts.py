"""Discharge instructions and the SBAR draft against the demo ward's ground truth: the medicines
are the reconciled discharge list (a drug stopped before discharge is never a medicine to keep
taking), and "why you were in the hospital" is the principal diagnosis."""

from __future__ import annotations

import pytest

from clinsum.drafting.models import DraftStatus
from clinsum.drafting.selectors import draft_sections
from clinsum.drafting.services import draft_create, draft_run
from tests.demo_charts import current_drugs

pytestmark = pytest.mark.django_db


def drafted(patient, nurse, kind):
    draft = draft_create(patient=patient, user=nurse, kind_key=kind)
    draft_run(draft_id=draft.pk)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.READY, draft.error
    return {s["key"]: s for s in draft_sections(draft=draft)}


def sentences(section) -> list[str]:
    return [s.text.lower() for s in section["sentences"]]


def test_discharge_medicines_are_the_reconciled_discharge_list(discharged, nurse):
    patient, facts = discharged
    medicines = sentences(drafted(patient, nurse, "discharge_instructions")["medicines"])
    for drug in current_drugs(facts):
        assert any(drug in line and "stopped" not in line for line in medicines), (drug, medicines)
    for course in facts.medications:
        if course.stopped_at is not None:
            for line in medicines:
                if course.drug in line:
                    assert "stopped" in line, (course.drug, line)


def test_why_you_were_in_the_hospital_is_the_principal_diagnosis(discharged, nurse):
    patient, facts = discharged
    why = sentences(drafted(patient, nurse, "discharge_instructions")["why"])
    assert why and facts.problems[0].lower() in why[0]


def test_the_sbar_situation_and_background_come_from_the_chart(discharged, nurse):
    patient, facts = discharged
    sections = drafted(patient, nurse, "sbar_handoff")
    situation, background = sentences(sections["situation"]), sentences(sections["background"])
    assert situation, "the situation is empty"
    assert any(facts.problems[0].lower() in line for line in situation + background)
    for allergy in facts.allergies:
        assert any(allergy.substance.lower() in line for line in background), (allergy, background)
