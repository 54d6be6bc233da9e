"""Audit rows written by services that are not handed the request still record where the
request came from (address, user agent, request id); outside a request they record none."""

from __future__ import annotations

from django.urls import reverse

from clinsum.audit.models import AuditEvent
from clinsum.audit.services import audit_record

HEADERS = {"HTTP_USER_AGENT": "Ward 4W workstation 7", "HTTP_X_REQUEST_ID": "abcdef12-3456-7890"}


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
