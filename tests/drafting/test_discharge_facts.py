"""Discharge instructions and the SBAR draft against the demo ward's ground truth: the medicines
are the reconciled discharge list (a drug stopped before discharge is never a medicine to keep
taking), and "why you were in the hospital" is the principal diagnosis."""

from __future__ import annotations

import pytest

from clinsum.charts.indexing import notes_index
from clinsum.charts.models import Note
from clinsum.drafting.models import DraftStatus
from clinsum.drafting.selectors import draft_sections
from clinsum.drafting.services import draft_create, draft_run
from tests.demo_charts import current_drugs, demo_chart_load, discharged_patient_with_a_stopped_drug

pytestmark = pytest.mark.django_db


@pytest.fixture
def discharged(db):
    mrn, facts = discharged_patient_with_a_stopped_drug()
    patient = demo_chart_load(mrn, enqueue=False)
    notes_index(note_ids=list(Note.objects.filter(patient=patient).values_list("pk", flat=True)))
    return patient, facts


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


def test_signing_warns_about_statements_older_than_the_newest_note_on_their_subject(discharged, nurse, client):
    from django.urls import reverse

    from clinsum.drafting.selectors import draft_older_than_chart

    patient, _ = discharged
    draft = draft_create(patient=patient, user=nurse, kind_key="sbar_handoff")
    draft_run(draft_id=draft.pk)
    draft.refresh_from_db()
    warnings = draft_older_than_chart(draft=draft)
    for warning in warnings:  # every warning names a newer note of this patient that mentions the subject
        cited = max(c.note.authored_at for c in warning["sentence"].citations.all())
        assert warning["note"].patient_id == patient.pk and warning["note"].authored_at > cited
        assert warning["subject"].lower() in Note.objects.get(pk=warning["note"].pk).text.lower()
    client.force_login(nurse)
    page = client.get(reverse("draft_detail", args=[draft.pk])).content.decode()
    assert ("Check before signing" in page) == bool(warnings)


def test_a_statement_cited_from_an_old_note_is_flagged_when_a_newer_note_mentions_its_drug(discharged, nurse):
    from clinsum.drafting.models import DraftCitation, DraftSentence, Origin
    from clinsum.drafting.selectors import draft_older_than_chart

    patient, facts = discharged
    draft = draft_create(patient=patient, user=nurse, kind_key="sbar_handoff")
    draft_run(draft_id=draft.pk)
    oldest = Note.objects.filter(patient=patient).order_by("authored_at").first()
    drug = next(
        c.drug
        for c in facts.medications
        if c.drug.lower() in oldest.text.lower()
        and Note.objects.filter(patient=patient, authored_at__gt=oldest.authored_at, text__icontains=c.drug).exists()
    )
    start = oldest.text.lower().index(drug.lower())
    sentence = DraftSentence.objects.create(
        draft_id=draft.pk,
        section="background",
        ordinal=99,
        text=oldest.text[start : start + len(drug)],
        origin=Origin.GENERATED,
        verdict="supported",
    )
    DraftCitation.objects.create(
        sentence=sentence,
        note=oldest,
        source_id="S1",
        quote=drug,
        char_start=start,
        char_end=start + len(drug),
        found=True,
    )
    flagged = [w for w in draft_older_than_chart(draft=draft) if w["sentence"].pk == sentence.pk]
    assert flagged and flagged[0]["note"].authored_at > oldest.authored_at
