"""The Content-Security-Policy in a real browser: a clinician's whole path (login, patient list,
chart, an htmx summary request and its polling, a citation) trips no violation."""

import os

import pytest

from tests.browser.helpers import csp_problems, csp_watch, discharge_chart, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures


@pytest.fixture
def chart(tmp_path, celery_worker_process):
    return discharge_chart(tmp_path, mrn="CSP-1", family_name="Lindqvist", given_name="Maren")


def test_a_clinicians_path_trips_no_csp_violation(celery_worker_process, live_server, clinician, chart, page):
    violations, console = csp_watch(page)

    response = page.goto(live_server.url + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    log_in(page, live_server.url, clinician.username)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_role("heading", name="Patients").wait_for()
    page.get_by_role("link", name="Lindqvist, Maren").click()
    assert "CSP-1" in page.get_by_role("region", name="Patient").inner_text()

    page.get_by_role("button", name="Summarize chart").click()  # htmx POST, then polling GETs
    page.locator("#summary-panel[data-status=done]").wait_for(timeout=120_000)
    assert page.locator("li.claim").count() >= 1
    page.locator("li.claim a.cite").first.click()
    page.locator("mark#cited").wait_for()
    page.wait_for_timeout(300)  # let late violation reports arrive

    assert csp_problems(violations, console) == []
    # htmx was told not to inject its indicator <style>; the stylesheet carries those rules.
    assert page.locator("head style").count() == 0
