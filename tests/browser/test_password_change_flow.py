"""First login in headless Chromium (issue 17): an administrator creates a local user with a
temporary password; at their first login the user is kept on the password-change page until
they choose a password Django's validators accept, then reaches their home page. Afterwards the
temporary password no longer logs in and the new one does. No CSP violation on the way."""

import os

import pytest

from clinsum.accounts.models import User
from tests.accounts.mfa import totp_device, totp_now
from tests.browser.helpers import csp_problems, csp_watch, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures

TEMPORARY = "Harbor-Lantern-Temp-41"
CHOSEN = "Quiet-Meadow-Ferry-2026"


def change_password(page, old: str, new: str) -> None:
    page.get_by_label("Old password").fill(old)
    page.locator("#id_new_password1").fill(new)
    page.get_by_label("New password confirmation").fill(new)
    page.get_by_role("button", name="Change password").click()


def test_a_new_user_must_choose_a_password_at_first_login(live_server, browser, admin_user, page):
    device = totp_device(admin_user)
    log_in(page, live_server.url, admin_user.username)
    page.get_by_label("6-digit code from your authenticator app").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()
    page.goto(live_server.url + "/users/new/")
    page.get_by_label("Username").fill("carla")
    page.get_by_label("First name").fill("Carla")
    page.get_by_label("Last name").fill("Reyes")
    page.get_by_label("Role").select_option(label="Clinician")
    page.get_by_label("Unit").fill("4W")
    page.locator("#id_password").fill(TEMPORARY)  # "Password" is also in "Password again"
    page.get_by_label("Password again").fill(TEMPORARY)
    page.get_by_role("button", name="Create user").click()
    page.get_by_text("User carla created").wait_for()
    assert User.objects.get(username="carla").must_change_password

    carla = browser.new_context().new_page()
    violations, console = csp_watch(carla)
    log_in(carla, live_server.url, "carla", TEMPORARY)
    carla.wait_for_url("**/account/password/**")
    assert "An administrator set your current password" in carla.locator("main").inner_text()
    carla.goto(live_server.url + "/patients/")  # nothing else opens before the change
    carla.wait_for_url("**/account/password/?next=/patients/")

    change_password(carla, TEMPORARY, "Short-1")
    assert "This password is too short" in carla.locator("main").inner_text()
    change_password(carla, TEMPORARY, "password1234")
    assert "This password is too common" in carla.locator("main").inner_text()
    assert "/account/password/" in carla.url and User.objects.get(username="carla").must_change_password

    change_password(carla, TEMPORARY, CHOSEN)
    carla.wait_for_url("**/patients/")
    assert "Your password has been changed" in carla.locator("main").inner_text()
    assert not User.objects.get(username="carla").must_change_password
    assert csp_problems(violations, console) == []
    carla.context.close()

    again = browser.new_context().new_page()
    log_in(again, live_server.url, "carla", TEMPORARY)
    assert "didn't match" in again.locator("main").inner_text() and "/login/" in again.url
    log_in(again, live_server.url, "carla", CHOSEN)
    again.wait_for_url("**/patients/")
    again.context.close()
