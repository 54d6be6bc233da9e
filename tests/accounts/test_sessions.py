"""Session policy: new key at login, idle logoff that polling cannot postpone, deactivated
users' sessions end at once."""

import time

from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import login_verified
from tests.conftest import PASSWORD

from .conftest import idle_for, last_activity, password_login

POLL = {"HTTP_HX_REQUEST": "true"}


def summary_panel(ward):
    """The URL htmx polls while a summary is being made."""
    from clinsum.summaries.models import Summary

    summary = Summary.objects.create(patient=ward["p1"], backend="extractive", fingerprint="t")
    return reverse("summary_detail", args=[summary.pk])


def test_the_session_key_changes_at_login(clinician, client):
    client.get(reverse("login"))
    session = client.session
    session["pre_login"] = "x"
    session.save()
    before = session.session_key
    password_login(client)
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_login_records_activity(clinician, client):
    password_login(client)
    assert abs(last_activity(client) - time.time()) < 5


def test_an_idle_session_is_logged_out_and_audited(clinician, ward, client, settings):
    password_login(client)
    idle_for(client, settings.SESSION_COOKIE_AGE + 1)
    response = client.get(reverse("patient_list"))
    assert response.status_code == 302 and response["Location"] == reverse("login") + "?idle=1"
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="logout_idle", actor_id=clinician.pk).count() == 1
    assert b"logged out after a period of inactivity" in client.get(response["Location"]).content


def test_activity_within_the_timeout_keeps_the_session(clinician, ward, client, settings):
    password_login(client)
    idle_for(client, settings.SESSION_COOKIE_AGE - 5)
    assert client.get(reverse("patient_list")).status_code == 200
    assert abs(last_activity(client) - time.time()) < 5


def test_a_short_timeout_setting_applies(clinician, ward, client, settings):
    settings.SESSION_COOKIE_AGE = 1
    password_login(client)
    idle_for(client, 2)  # no real sleep: the last activity is set two seconds back
    assert client.get(reverse("patient_list")).status_code == 302


def test_polling_does_not_count_as_activity(clinician, ward, client, settings):
    password_login(client)
    idle_for(client, 60)
    before = last_activity(client)
    expiry = Session.objects.get(session_key=client.session.session_key).expire_date
    assert client.get(summary_panel(ward), **POLL).status_code == 200
    assert last_activity(client) == before
    assert Session.objects.get(session_key=client.session.session_key).expire_date == expiry


def test_the_server_not_a_client_header_decides_what_is_polling(clinician, ward, client):
    """A poll without the header idle.js adds is still a poll; the header on a page is not."""
    password_login(client)
    idle_for(client, 60)
    before = last_activity(client)
    client.get(summary_panel(ward), HTTP_HX_REQUEST="true")
    assert last_activity(client) == before
    client.get(reverse("patient_list"), HTTP_HX_REQUEST="true", HTTP_X_CLINSUM_POLL="1")
    assert abs(last_activity(client) - time.time()) < 5


def test_polling_cannot_keep_an_idle_session_alive(clinician, ward, client, settings):
    password_login(client)
    panel = summary_panel(ward)
    idle_for(client, settings.SESSION_COOKIE_AGE - 1)
    assert client.get(panel, **POLL).status_code == 200
    idle_for(client, settings.SESSION_COOKIE_AGE + 1)
    response = client.get(panel, **POLL)
    # htmx gets a full-page redirect, not the login page swapped into a panel.
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("login") + "?idle=1"
    assert "_auth_user_id" not in client.session


def test_a_user_triggered_htmx_request_is_activity(clinician, ward, client):
    password_login(client)
    idle_for(client, 60)
    client.get(reverse("patient_list"), HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="search")
    assert abs(last_activity(client) - time.time()) < 5


def test_stay_logged_in_extends_the_session_while_the_warning_shows(clinician, client, settings):
    password_login(client)
    idle_for(client, settings.SESSION_COOKIE_AGE - 60)  # the warning shows in the last 120 s
    assert client.post(reverse("session_keepalive")).status_code == 204
    assert abs(last_activity(client) - time.time()) < 5
    assert client.get(reverse("session_keepalive")).status_code == 405


def test_a_script_posting_stay_logged_in_early_does_not_keep_a_session_alive(clinician, client, settings):
    password_login(client)
    idle_for(client, 300)
    before = last_activity(client)
    assert client.post(reverse("session_keepalive")).status_code == 204
    assert last_activity(client) == before


def test_pages_carry_the_idle_warning_and_load_the_script_without_inline_code(clinician, ward, client, settings):
    password_login(client)
    html = client.get(reverse("patient_list")).content.decode()
    assert 'id="idle-warning"' in html and f'data-timeout-s="{settings.SESSION_COOKIE_AGE}"' in html
    assert 'src="/static/idle.js" defer' in html
    assert "<noscript>" in html
    assert "<script>" not in html  # no inline script
    assert client.get("/static/idle.js").status_code == 200


def test_deactivating_a_user_ends_all_their_sessions_at_once(clinician, admin_user, ward, client):
    other_browser = password_login(Client())
    password_login(client)
    admin = login_verified(Client(), admin_user)
    assert admin.post(reverse("user_deactivate", args=[clinician.pk])).status_code == 302
    for browser in (client, other_browser):
        response = browser.get(reverse("patient_list"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 200


def test_an_inactive_user_is_logged_out_on_the_next_request(clinician, ward, client):
    password_login(client)
    type(clinician).objects.filter(pk=clinician.pk).update(is_active=False)
    response = client.get(reverse("patient_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_logout_is_audited(clinician, client):
    password_login(client)
    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(action="logout", actor_id=clinician.pk).count() == 1
