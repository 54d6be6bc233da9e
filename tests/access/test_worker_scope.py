"""The summary and draft workers retrieve as the person who asked, under the access rule as it
stands when the job runs: the requester's access_scope goes inside the retrieval SQL, and a
requester who lost the chart since asking gets a failed job with a reason, not the chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinsum.access.models import BreakGlassGrant
from clinsum.access.selectors import may_read
from clinsum.charts.indexing import notes_index
from clinsum.charts.services import notes_ingest
from clinsum.drafting.models import Draft, DraftStatus
from clinsum.drafting.services import draft_run
from clinsum.summaries.generation.jobs import REQUESTER_OUT_OF_SCOPE
from clinsum.summaries.models import Summary, SummaryStatus
from clinsum.summaries.services import summary_run
from tests.conftest import note_record

ICU_NOTE = "Assessment: intubated and sedated. Plan: wean norepinephrine, daily sedation hold."


def grant(user, patient, *, hours: float = 1) -> BreakGlassGrant:
    now = timezone.now()
    return BreakGlassGrant.objects.create(
        user=user,
        patient=patient,
        reason="Rapid response, covering ICU bed 3.",
        granted_at=now - timedelta(hours=1),
        expires_at=now + timedelta(hours=hours),
    )


def summary_of(patient, requester) -> Summary:
    summary = Summary.objects.create(patient=patient, requested_by=requester, backend="extractive", fingerprint="t")
    summary_run(summary_id=summary.pk)
    summary.refresh_from_db()
    return summary


@pytest.fixture
def icu_chart(ward):
    notes_ingest(notes=[note_record("T-003", ICU_NOTE)], enqueue=False)
    notes_index(note_ids=list(ward["icu"].notes.values_list("pk", flat=True)))
    return ward["icu"]


def test_a_break_glass_requester_gets_the_summary(clinician, icu_chart):
    grant(clinician, icu_chart)
    summary = summary_of(icu_chart, clinician)
    assert summary.status == SummaryStatus.DONE, summary.error
    assert summary.source_note_ids == list(icu_chart.notes.values_list("pk", flat=True))


@pytest.mark.parametrize("lost_by", ["moving-unit", "deactivation", "grant-end"])
def test_a_requester_who_lost_the_chart_gets_no_summary(make_user, icu_chart, lost_by):
    if lost_by == "grant-end":
        requester = make_user("greta", "clinician", "4W")
        grant(requester, icu_chart)
    else:
        requester = make_user("ivan", "clinician", "ICU")
    assert may_read(user=requester, patient_id=icu_chart.pk)  # when asking
    if lost_by == "moving-unit":
        requester.unit = "5E"
        requester.save(update_fields=["unit"])
    elif lost_by == "deactivation":
        requester.is_active = False
        requester.save(update_fields=["is_active"])
    else:
        BreakGlassGrant.objects.filter(user=requester).update(expires_at=timezone.now() - timedelta(seconds=1))
    summary = summary_of(icu_chart, requester)
    assert (summary.status, summary.error) == (SummaryStatus.FAILED, REQUESTER_OUT_OF_SCOPE)
    assert not summary.claims.exists() and summary.source_note_ids == []


def test_a_summary_whose_requester_is_gone_is_not_made(icu_chart):
    summary = summary_of(icu_chart, None)
    assert (summary.status, summary.error) == (SummaryStatus.FAILED, REQUESTER_OUT_OF_SCOPE)


def test_a_deactivated_author_gets_no_draft(nurse, ward):
    notes_ingest(notes=[note_record("T-001", "Ruth note. Afebrile, ambulating with a frame.")], enqueue=False)
    draft = Draft.objects.create(patient=ward["p1"], author=nurse, kind="sbar_handoff", backend="extractive")
    nurse.is_active = False
    nurse.save(update_fields=["is_active"])
    draft_run(draft_id=draft.pk)
    draft.refresh_from_db()
    assert (draft.status, draft.error) == (DraftStatus.FAILED, REQUESTER_OUT_OF_SCOPE)
    assert not draft.sentences.exists()
