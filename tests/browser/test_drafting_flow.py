"""A nurse in headless Chromium drafts an SBAR handoff for a patient of the nursing-notes
corpus, edits a sentence (autosaved by htmx), signs with her password, finds the new note in
the chart and among the sources of the next summary. Another nurse cannot sign it."""

import os

import pytest

from clinsum.charts.models import EmbeddingStatus, Note
from clinsum.drafting.models import Draft, DraftStatus
from tests.browser.helpers import csp_problems, csp_watch, log_in
from tests.conftest import PASSWORD, wait_for
from tests.drafting.conftest import corpus_patient_ingest

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def corpus_chart(celery_worker_process):
    patient = corpus_patient_ingest(enqueue=True)  # the embed worker indexes it
    wait_for(
        lambda: not Note.objects.filter(patient=patient).exclude(embedding_status=EmbeddingStatus.DONE).exists(),
        what="indexing",
    )
    return patient


def test_a_nurse_drafts_edits_and_signs_a_handoff(live_server, nurse, make_user, corpus_chart, browser, page):
    violations, console = csp_watch(page)  # autosave, out-of-band swaps and printing run under the CSP
    log_in(page, live_server.url, nurse.username)
    page.get_by_role("link", name="Corpus patient 8, Eight").click()
    page.get_by_label("Draft", exact=True).select_option("sbar_handoff")
    page.get_by_role("button", name="Start draft").click()
    page.locator("#draft-panel[data-status=ready]").wait_for(timeout=120_000)
    draft = Draft.objects.get(patient=corpus_chart)
    assert page.locator(".sentence a.cite").count() >= 4  # every drafted sentence cites its note

    # Edit the first Situation sentence; htmx autosaves it after a pause in typing.
    box = page.get_by_label("Edit situation (one statement per line)")
    lines = box.input_value().split("\n")
    lines[0] = "Admitted with shortness of breath; possible CHF, per HPI."
    box.fill("\n".join(lines))
    preview = page.locator("#preview-situation")
    preview.get_by_text("Saved").wait_for(timeout=15_000)
    edited = preview.locator("li.sentence-nurse")
    assert edited.count() == 1 and "Admitted with shortness of breath" in edited.inner_text()
    assert "written by you" in edited.inner_text()
    assert preview.locator("li.sentence-supported a.cite").count() == len(lines) - 1  # the others keep citations

    # Another nurse on the same unit reaches the chart but not the draft.
    other_context = browser.new_context()
    other = other_context.new_page()
    log_in(other, live_server.url, make_user("nora", "nurse", "4W").username)
    response = other.goto(f"{live_server.url}/drafts/{draft.pk}/")
    assert response.status == 403 and "another nurse" in other.content()
    other_context.close()

    page.get_by_label("Your password, to sign").fill(PASSWORD)
    page.get_by_role("button", name="Sign and file note").click()
    page.get_by_text("This draft is read-only").wait_for()
    draft.refresh_from_db()
    assert draft.status == DraftStatus.SIGNED
    note = draft.signed_note
    assert "Admitted with shortness of breath; possible CHF, per HPI." in note.text
    assert f"reviewed and signed by {nurse.get_full_name()}" in note.text

    # The note is in the chart ...
    page.get_by_role("link", name="Back to chart").click()
    page.locator(f'a[href="/notes/{note.pk}/"]').click()
    assert "Drafted with ClinSum, reviewed and signed by" in page.locator(".note-text").inner_text()
    # ... and among the sources of the next summary.
    page.go_back()
    page.get_by_role("button", name="Summarize chart").click()
    page.locator("#summary-panel[data-status=done]").wait_for(timeout=120_000)
    page.get_by_text("Sources read:").click()
    assert page.locator(f'.sources-read a[href="/notes/{note.pk}/"]').count() == 1

    # The printable view of the signed draft: no citations, no navigation once printed.
    page.goto(f"{live_server.url}/drafts/{draft.pk}/print/")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible() and not page.get_by_role("button", name="Print").is_visible()
    assert "Admitted with shortness of breath" in page.locator(".printable").inner_text()
    assert csp_problems(violations, console) == []
