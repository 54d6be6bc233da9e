"""A break-glass access reviewed in headless Chromium (issue 17): a clinician breaks the glass on
a patient of another unit; a privacy officer records "not appropriate", which needs a note, and
finds the access under that outcome with the note. No CSP violation on the way."""

import os
from datetime import date

import pytest

from clinsum.access.models import BreakGlassGrant
from clinsum.charts.models import Patient
from tests.accounts.mfa import totp_device, totp_now
from tests.browser.helpers import csp_problems, csp_watch, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures

NOTE = "No clinical role for this patient; referred to the unit manager."


def test_a_privacy_officer_records_a_not_appropriate_review_with_a_note(
    live_server, browser, clinician, privacy_officer, page
):
    icu = Patient.objects.create(
        mrn="DEMO-896455", family_name="Castillo", given_name="Mara", birth_date=date(1960, 2, 29), unit="ICU"
    )
    alice = browser.new_context().new_page()
    log_in(alice, live_server.url, clinician.username)
    alice.goto(live_server.url + "/patients/lookup/")
    alice.get_by_label("MRN").fill("DEMO-896455")
    alice.get_by_role("button", name="Look up").click()
    alice.get_by_role("row", name="Castillo, Mara").get_by_role("link", name="Request break-glass access").click()
    alice.get_by_label("Reason for emergency access").fill("Rapid response call for this patient in ICU bed 4")
    alice.get_by_role("button", name="Open the chart").click()
    alice.wait_for_url(f"**/patients/{icu.pk}/")
    alice.context.close()
    grant = BreakGlassGrant.objects.get(user=clinician, patient=icu)

    violations, console = csp_watch(page)
    device = totp_device(privacy_officer)
    log_in(page, live_server.url, privacy_officer.username)
    page.get_by_label("6-digit code from your authenticator app").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()
    page.goto(live_server.url + "/break-glass/reviews/")

    row = page.get_by_role("row").filter(has_text="Rapid response call")
    row.get_by_role("group", name=f"Outcome for #{grant.pk}").get_by_label("Not appropriate").check()
    row.get_by_role("button", name="Record the review").click()  # no note
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Write a note saying why the access is 'not appropriate'" in alert.inner_text()
    grant.refresh_from_db()
    assert grant.reviewed_at is None

    row = page.get_by_role("row").filter(has_text="Rapid response call")
    row.get_by_role("group", name=f"Outcome for #{grant.pk}").get_by_label("Not appropriate").check()
    row.get_by_label(f"Note for #{grant.pk}").fill(NOTE)
    row.get_by_role("button", name="Record the review").click()
    banner = page.get_by_role("status").filter(has_text=f"#{grant.pk} reviewed")
    banner.wait_for()
    assert "not appropriate" in banner.inner_text()
    grant.refresh_from_db()
    assert (grant.review_outcome, grant.review_comment) == ("not_appropriate", NOTE)
    assert "Rapid response call" not in page.get_by_role("table").inner_text()  # no longer waiting

    page.get_by_role("navigation", name="Filter reviews by outcome").get_by_role("link", name="Not appropriate").click()
    reviewed = page.get_by_role("row").filter(has_text="Rapid response call")
    assert "Not appropriate" in reviewed.inner_text() and NOTE in reviewed.inner_text()
    assert privacy_officer.username in reviewed.inner_text()
    assert csp_problems(violations, console) == []
