"""Audit rows written by services that are not handed the request still record where the
request came from (address, user agent, request id) and who acted; outside a request they
record none. No service takes the request (tests/test_services_take_no_request.py)."""

from __future__ import annotations

from django.urls import reverse

from clinsum.accounts.services import mfa_enrolment_code_issue
from clinsum.audit.models import AuditEvent
from clinsum.audit.services import audit_record
from tests.accounts.mfa import login_verified, totp_device, totp_now
from tests.conftest import PASSWORD

HEADERS = {"HTTP_USER_AGENT": "Ward 4W workstation 7", "HTTP_X_REQUEST_ID": "abcdef12-3456-7890"}
# Another address than the test client's default, so the row's IP comes from this request.
OFFICE = {"REMOTE_ADDR": "10.20.30.40", "HTTP_USER_AGENT": "Admin office PC 2", "HTTP_X_REQUEST_ID": "0123abcd-4567"}


def origin(event) -> tuple:
    return (event.ip, event.user_agent, event.request_id)


def test_a_break_glass_row_records_the_requests_origin(clinician, ward, client):
    client.force_login(clinician)
    client.post(
        reverse("break_glass_create", args=[ward["icu"].pk]),
        {"reason": "Rapid response call, covering ICU bed 3 overnight"},
        **HEADERS,
    )
    event = AuditEvent.objects.get(action="break_glass")
    assert (event.ip, event.user_agent, event.request_id) == ("127.0.0.1", *HEADERS.values())


def test_outside_a_request_a_row_has_no_origin(clinician, ward, client):
    client.force_login(clinician)
    client.get(reverse("chart_detail", args=[ward["p1"].pk]), **HEADERS)  # a request came and went
    event = audit_record(action="retention_purge", reason="nightly")
    assert (event.ip, event.user_agent, event.request_id) == (None, "", "")


def test_a_deactivation_by_an_admin_records_the_requests_origin(admin_user, clinician, client):
    login_verified(client, admin_user)
    assert (
        client.post(
            reverse("user_deactivate", args=[clinician.pk]), {"reason": "left the hospital"}, **OFFICE
        ).status_code
        == 302
    )
    event = AuditEvent.objects.get(action="user_deactivate")
    assert (event.actor_id, event.object_id) == (admin_user.pk, str(clinician.pk))
    assert origin(event) == tuple(OFFICE.values())


def test_a_legal_hold_placed_by_an_admin_records_the_requests_origin(admin_user, ward, client):
    login_verified(client, admin_user)
    response = client.post(reverse("retention_hold_place"), {"mrn": "T-002", "reason": "Matter 2026-17"}, **OFFICE)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="legal_hold_place")
    assert (event.actor_id, event.patient_id) == (admin_user.pk, ward["p2"].pk)
    assert origin(event) == tuple(OFFICE.values())


def test_mfa_enrolment_records_the_origin_and_the_view_keeps_the_session(privacy_officer, client):
    client.post(reverse("login"), {"username": privacy_officer.username, "password": PASSWORD})
    code = mfa_enrolment_code_issue(actor=None, user_id=privacy_officer.pk)
    assert client.post(reverse("mfa_enrol"), {"code": code}, **OFFICE).status_code == 302
    redeemed = AuditEvent.objects.get(action="mfa_code_redeem")
    assert (redeemed.actor_id, *origin(redeemed)) == (privacy_officer.pk, *OFFICE.values())

    session_before = client.session.session_key
    device = totp_device(privacy_officer, confirmed=False)
    assert client.post(reverse("mfa_enrol"), {"token": totp_now(device)}, **OFFICE).status_code == 302
    enrolled = AuditEvent.objects.get(action="mfa_enrol")
    assert (enrolled.actor_id, *origin(enrolled)) == (privacy_officer.pk, *OFFICE.values())
    assert client.session.session_key != session_before  # privilege raised: a new session id
    assert client.get(reverse("audit_event_list")).status_code == 200  # the session is verified


def test_a_password_change_records_the_origin_and_keeps_this_session(clinician, ward, client):
    client.force_login(clinician)
    new = "juniper-lantern-quartz-77"
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}, **OFFICE
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="password_change")
    assert (event.actor_id, *origin(event)) == (clinician.pk, *OFFICE.values())
    assert client.get(reverse("chart_detail", args=[ward["p1"].pk])).status_code == 200
