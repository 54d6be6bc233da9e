"""An administrator in headless Chromium: find a user, deactivate them through the confirmation
page with a reason; the user's open session ends at once. No CSP violation on the way."""

import os

import pytest

from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import totp_device, totp_now
from tests.browser.helpers import csp_problems, csp_watch, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures


def test_an_admin_deactivates_a_user_after_confirming_with_a_reason(
    live_server, browser, admin_user, clinician, nurse, page
):
    alice = browser.new_context().new_page()  # the clinician, logged in elsewhere
    log_in(alice, live_server.url, clinician.username)
    assert alice.url.endswith("/patients/")

    violations, console = csp_watch(page)
    device = totp_device(admin_user)
    log_in(page, live_server.url, admin_user.username)
    page.get_by_label("6-digit code from your authenticator app").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()

    page.get_by_label("Find a user (name or username)").fill("ALI")
    page.get_by_role("button", name="Find").click()
    table = page.get_by_role("table")
    assert "alice" in table.inner_text() and "nina" not in table.inner_text()
    assert "Clinician" in table.inner_text()
    page.get_by_role("link", name="alice").click()
    page.get_by_role("link", name="Deactivate this account (offboarding)…").click()

    facts = page.get_by_label("Account to deactivate").inner_text()
    assert "alice" in facts and "Alice Test" in facts and "Clinician" in facts and "4W" in facts
    assert "logged out at once" in page.locator("main").inner_text()
    confirm = page.get_by_role("button", name="Deactivate alice")
    confirm.click()  # no reason: the browser keeps the form (the field is required)
    assert page.get_by_label("Reason for deactivating").evaluate("el => el.validity.valueMissing")
    assert not AuditEvent.objects.filter(action="user_deactivate").exists()

    page.get_by_label("Reason for deactivating").fill("Left the hospital 31 May")
    confirm.click()
    banner = page.get_by_role("status").filter(has_text="alice is deactivated")
    banner.wait_for()
    assert "can no longer log in" in banner.inner_text()
    assert AuditEvent.objects.get(action="user_deactivate").reason.startswith("Left the hospital 31 May;")

    alice.goto(live_server.url + "/patients/")
    assert "/login/" in alice.url
    alice.context.close()
    assert csp_problems(violations, console) == []
