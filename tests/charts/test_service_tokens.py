"""Rotating the interface engine's token: create a new one, revoke the old, audited."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from clinsum.audit.models import AuditEvent
from clinsum.charts.models import ServiceToken


def create(name: str) -> str:
    out = StringIO()
    call_command("service_token_create", name, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def post_bundle(client, token: str):
    return client.post(
        reverse("fhir_bundle_create"),
        data=b'{"resourceType": "Bundle", "type": "batch", "entry": []}',
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_a_revoked_token_stops_working_at_once_and_the_new_one_works(client, db):
    old, new = create("interface-engine"), create("interface-engine-2026")
    assert post_bundle(client, old).status_code != 401
    out = StringIO()
    call_command("service_token_revoke", "interface-engine", stdout=out)
    row = ServiceToken.objects.get(name="interface-engine")
    assert "revoked" in out.getvalue() and not row.active
    assert post_bundle(client, old).status_code == 401
    assert post_bundle(client, new).status_code != 401
    assert AuditEvent.objects.filter(action="service_token_revoke", object_id=str(row.pk)).count() == 1
    listing = StringIO()
    call_command("service_token_revoke", "--list", stdout=listing)
    lines = sorted(listing.getvalue().strip().splitlines())
    assert [line.split("\t")[1:3] for line in lines] == [
        ["interface-engine", "revoked"],
        ["interface-engine-2026", "active"],
    ]
    assert old not in listing.getvalue() and new not in listing.getvalue()


def test_revoking_an_unknown_token_says_so(db):
    with pytest.raises(CommandError, match="no service token named 'nobody'"):
        call_command("service_token_revoke", "nobody")
    with pytest.raises(CommandError, match="give the NAME"):
        call_command("service_token_revoke")
