"""Session policy (accounts/middleware.py): idle logoff that polling cannot postpone, the idle
warning on every page, and a deactivated user's session ending at the next request. Login, logout
and "stay logged in" are in test_views.py."""

import time

from django.contrib.sessions.models import Session
from django.urls import reverse

from clinsum.audit.models import AuditEvent

from .conftest import idle_for, last_activity, password_login

POLL = {"HTTP_HX_REQUEST": "true"}


def summary_panel(ward):
    """The URL htmx polls while a summary is being made."""
    from clinsum.summaries.models import Summary

    summary = Summary.objects.create(patient=ward["p1"], backend="extractive", fingerprint="t")
    return reverse("summary_detail", args=[summary.pk])


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


def test_pages_carry_the_idle_warning_and_load_the_script_without_inline_code(clinician, ward, client, settings):
    password_login(client)
    html = client.get(reverse("patient_list")).content.decode()
    assert 'id="idle-warning"' in html and f'data-timeout-s="{settings.SESSION_COOKIE_AGE}"' in html
    assert 'src="/static/idle.js" defer' in html
    assert "<noscript>" in html
    assert "<script>" not in html  # no inline script
    assert client.get("/static/idle.js").status_code == 200


def test_an_inactive_user_is_logged_out_on_the_next_request(clinician, ward, client):
    password_login(client)
    type(clinician).objects.filter(pk=clinician.pk).update(is_active=False)
    response = client.get(reverse("patient_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
