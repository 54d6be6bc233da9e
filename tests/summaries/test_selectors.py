"""summaries/selectors.py called directly: the reader's previous summary and what changed since,
the patient's past summaries under the access rule, notes that arrived since, and the printed
summary's footnotes."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from clinsum.charts.services import notes_ingest
from clinsum.summaries.models import Citation, Claim
from clinsum.summaries.selectors import (
    summaries_for_patient,
    summary_baseline_for_user,
    summary_changes_for_user,
    summary_notes_since,
    summary_print_sections,
)
from tests.conftest import note_record
from tests.summaries.conftest import done_summary


def test_the_baseline_is_the_readers_own_previous_finished_summary(notes, clinician, colleague):
    patient, note = notes["p1"].patient, notes["p1"]
    mine = done_summary(patient, clinician, [("problems", "Heart failure.", note)], minutes_ago=60)
    done_summary(patient, colleague, [("problems", "Colleague's view.", note)], minutes_ago=30)
    failed = done_summary(patient, clinician, [], minutes_ago=20)
    failed.status = "failed"
    failed.save(update_fields=["status"])
    latest = done_summary(patient, colleague, [("problems", "Heart failure.", note)])
    assert summary_baseline_for_user(user=clinician, summary=latest) == mine
    assert summary_baseline_for_user(user=clinician, summary=mine) is None  # her first
    assert summary_changes_for_user(user=clinician, summary=mine) is None


def test_the_changes_name_the_new_claim_with_its_citation_and_the_changed_dose(notes, clinician):
    patient, note = notes["p1"].patient, notes["p1"]
    done_summary(
        patient,
        clinician,
        [("medications", "Furosemide 40 mg IV daily.", note), ("problems", "Acute kidney injury.", note)],
        minutes_ago=60,
    )
    newer = done_summary(
        patient,
        clinician,
        [("medications", "Furosemide 80 mg IV daily.", note), ("problems", "Pneumonia, right lower lobe.", note)],
    )
    changes = summary_changes_for_user(user=clinician, summary=newer)
    by_key = {s.key: s for s in changes.sections}
    assert [c.text for c in by_key["problems"].added] == ["Pneumonia, right lower lobe."]
    assert by_key["problems"].added[0].citations.all()[0].note == note
    assert [c.text for c in by_key["problems"].removed] == ["Acute kidney injury."]
    assert [(o.text, n.text) for o, n in by_key["medications"].changed] == [
        ("Furosemide 40 mg IV daily.", "Furosemide 80 mg IV daily.")
    ]


def test_unverified_claims_are_not_compared(notes, clinician):
    patient, note = notes["p1"].patient, notes["p1"]
    done_summary(patient, clinician, [("problems", "Heart failure.", note)], minutes_ago=60)
    newer = done_summary(patient, clinician, [("problems", "Heart failure.", note), ("problems", "Sepsis.", note)])
    Claim.objects.filter(summary=newer, text="Sepsis.").update(verdict="unsupported")
    assert summary_changes_for_user(user=clinician, summary=newer).sections == []


def test_past_summaries_are_listed_newest_first_for_chart_readers_only(notes, clinician, outsider):
    patient, note = notes["p1"].patient, notes["p1"]
    first = done_summary(patient, clinician, [("problems", "A.", note)], minutes_ago=60)
    second = done_summary(patient, clinician, [("problems", "B.", note)])
    assert summaries_for_patient(user=clinician, patient=patient) == [second, first]
    with pytest.raises((PermissionDenied, Http404)):
        summaries_for_patient(user=outsider, patient=patient)


def test_notes_stored_after_the_summary_are_counted(notes, clinician):
    patient, note = notes["p1"].patient, notes["p1"]
    summary = done_summary(patient, clinician, [("problems", "A.", note)])
    assert summary_notes_since(summary=summary) == 0
    notes_ingest(notes=[note_record("T-001", "New progress note. Febrile overnight.")], enqueue=False)
    assert summary_notes_since(summary=summary) == 1


def test_footnotes_number_each_cited_note_once_and_skip_the_verifiers_newer_notes(notes, clinician):
    patient, note = notes["p1"].patient, notes["p1"]
    notes_ingest(notes=[note_record("T-001", "Second note. Furosemide stopped.", days_ago=0)], enqueue=False)
    second = patient.notes.exclude(pk=note.pk).get()
    summary = done_summary(
        patient,
        clinician,
        [("problems", "Heart failure.", note), ("medications", "Furosemide.", second), ("allergies", "NKDA.", note)],
    )
    claim = Claim.objects.get(summary=summary, text="Heart failure.")
    Citation.objects.create(claim=claim, note=second, source_id="S2", found=True, newer=True)
    sections, footnotes = summary_print_sections(summary=summary)
    assert [(f.number, f.note.pk) for f in footnotes] == [(1, note.pk), (2, second.pk)]
    claims = {c.text: c.footnotes for s in sections for c in s["claims"]}
    assert claims == {"Heart failure.": [1], "Furosemide.": [2], "NKDA.": [1]}
