"""A clinician in headless Chromium: a note arrives after her first summary; her second summary
shows what changed (the new claim, with its citation), and its printable view carries its
sources as footnotes, who printed it and when (issue 17). Summaries run in this process: the
flow under test is reading and printing, not the worker."""

import os

import pytest

from clinsum.charts.indexing import notes_index
from clinsum.charts.models import EmbeddingStatus, Note
from clinsum.charts.services import notes_ingest
from clinsum.summaries.models import Summary
from clinsum.summaries.services import summary_run
from tests.browser.helpers import csp_problems, csp_watch, log_in
from tests.conftest import note_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures

FIRST = "ASSESSMENT: Acute on chronic systolic heart failure. Ejection fraction 30%."
ARRIVED = "ASSESSMENT: Community-acquired pneumonia of the right lower lobe, started on ceftriaxone."


def _summarised(patient, user) -> Summary:
    pending = Note.objects.filter(patient=patient).exclude(embedding_status=EmbeddingStatus.DONE)
    notes_index(note_ids=list(pending.values_list("pk", flat=True)))
    summary = Summary.objects.create(patient=patient, requested_by=user, backend="extractive", fingerprint="x")
    summary_run(summary_id=summary.pk)
    Summary.objects.filter(pk=summary.pk).update(fingerprint=f"done-{summary.pk}")
    summary.refresh_from_db()
    assert summary.status == "done", summary.error
    return summary


def test_a_note_after_the_first_summary_shows_as_new_with_its_citation_and_prints(live_server, ward, clinician, page):
    patient = ward["p1"]
    notes_ingest(notes=[note_record("T-001", FIRST, days_ago=2, note_type="progress")], enqueue=False)
    first = _summarised(patient, clinician)
    notes_ingest(notes=[note_record("T-001", ARRIVED, days_ago=0, note_type="progress")], enqueue=False)
    second = _summarised(patient, clinician)
    arrived = Note.objects.get(patient=patient, text=ARRIVED)

    violations, console = csp_watch(page)
    log_in(page, live_server.url, clinician.username)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    changes = page.get_by_role("region", name="What changed since your summary of")
    new = changes.locator("li.change-new")
    assert "pneumonia" in new.first.inner_text().lower(), changes.inner_text()
    new.first.locator("a.cite").first.click()
    page.locator("mark#cited").wait_for()
    assert "pneumonia" in page.locator("mark#cited").inner_text().lower()  # the note that arrived
    assert arrived.get_note_type_display() in page.locator("main").inner_text()

    page.goto(f"{live_server.url}/summaries/{second.pk}/")
    page.get_by_text("Past summaries of this patient (2)").click()
    assert page.locator(f".past-summaries a[href='/summaries/{first.pk}/']").is_visible()
    page.get_by_role("link", name="Print with sources").click()
    page.wait_for_url(f"**/summaries/{second.pk}/print/")
    page.emulate_media(media="print")
    printed = page.locator(".summary-print").inner_text()
    assert "Printed by Alice Test (Clinician)" in printed and "Verified against the chart at" in printed
    sources = page.locator(".footnotes li").all_inner_texts()
    assert any(s.startswith("Progress note · Dr. Test (Attending physician) · ") for s in sources), sources
    assert page.locator("sup.footnote-ref").count() >= 1
    assert not page.get_by_role("button", name="Print").is_visible()  # controls do not print
    assert not page.get_by_role("link", name="Back to the summary").is_visible()
    assert not csp_problems(violations, console)
