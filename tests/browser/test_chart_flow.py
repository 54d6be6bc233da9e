"""A clinician in headless Chromium: log in, open a chart, summarise, follow a citation."""

import os

import pytest

from tests.browser.helpers import discharge_chart, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures


@pytest.fixture
def chart(tmp_path, celery_worker_process):
    return discharge_chart(tmp_path, mrn="PW-1", family_name="Okafor", given_name="Ada")


def test_a_clinician_reads_a_cited_summary(celery_worker_process, live_server, clinician, chart, page):
    log_in(page, live_server.url, clinician.username)

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
