"""A clinician in headless Chromium: log in, open a chart, summarise, follow a citation."""

import os

import pytest
from django.core.management import call_command

from clinsum.charts.models import EmbeddingStatus, Note, Patient
from tests.conftest import PASSWORD, shared_data, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures


@pytest.fixture
def chart(tmp_path):
    patient = Patient.objects.create(mrn="PW-1", family_name="Okafor", given_name="Ada", unit="4W", sex="female")
    source = shared_data("mtsamples", "abscess-with-cellulitis-discharge-summary.txt")
    (tmp_path / source.name).write_bytes(source.read_bytes())
    call_command("ingest_notes", str(tmp_path), mrn=patient.mrn, note_type="discharge_summary", verbosity=0)
    wait_for(lambda: not Note.objects.filter(patient=patient).exclude(embedding_status=EmbeddingStatus.DONE).exists(),
             what="indexing")
    return patient


def test_a_clinician_reads_a_cited_summary(celery_worker_process, live_server, clinician, chart, page):
    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill(clinician.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Okafor, Ada").click()
    banner = page.get_by_role("region", name="Patient")
    assert "PW-1" in banner.inner_text()

    page.get_by_role("button", name="Summarize chart").click()
    # htmx swaps the panel in place and polls it until the worker is done.
    page.locator("#summary-panel[data-status=done]").wait_for(timeout=120_000)
    claims = page.locator("li.claim")
    assert claims.count() >= 3
    first_claim = claims.first.evaluate("el => el.firstChild.textContent.trim()")

    claims.first.locator("a.cite").first.click()
    mark = page.locator("mark#cited")
    mark.wait_for()
    assert first_claim in " ".join(mark.inner_text().split())
    assert "PW-1" in page.get_by_role("region", name="Patient").inner_text()
