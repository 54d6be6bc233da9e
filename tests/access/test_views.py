"""Break-glass: a clinician or nurse opens a chart outside their scope with a reason; it is
time-limited, shown on the chart, audited, applied in the retrieval SQL and reviewed."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinsum.access.models import BreakGlassGrant
from clinsum.access.selectors import access_scope
from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import login_verified

from .conftest import REASON, break_glass


def test_the_403_page_offers_break_glass_for_an_existing_chart(alice, ward):
    response = alice.get(reverse("chart_detail", args=[ward["icu"].pk]))
    assert response.status_code == 403
    url = reverse("break_glass_create", args=[ward["icu"].pk])
    assert url.encode() in response.content
    assert b"Castillo" not in response.content and b"T-003" not in response.content  # no PHI before access


def test_a_note_outside_the_scope_offers_break_glass_and_returns_to_the_note(alice, notes, ward):
    note_url = reverse("note_detail", args=[notes["icu"].pk])
    response = alice.get(note_url)
    assert response.status_code == 403
    assert reverse("break_glass_create", args=[ward["icu"].pk]).encode() in response.content
    response = break_glass(alice, ward["icu"], next_url=note_url)
    assert response["Location"] == note_url
    assert b"ICU note. Intubated." in alice.get(note_url).content


def test_a_missing_patient_gets_404_not_break_glass(alice):
    assert alice.get(reverse("chart_detail", args=[999999])).status_code == 404
    assert alice.get(reverse("break_glass_create", args=[999999])).status_code == 404
    assert alice.post(reverse("break_glass_create", args=[999999]), {"reason": REASON}).status_code == 404


@pytest.mark.parametrize("reason", ["", "   ", "emergency", "x" * 19])
def test_a_reason_is_required(alice, ward, reason):
    response = break_glass(alice, ward["icu"], reason=reason)
    assert response.status_code == 200
    assert not BreakGlassGrant.objects.exists()
    assert alice.get(reverse("chart_detail", args=[ward["icu"].pk])).status_code == 403


def test_break_glass_opens_the_chart_with_a_banner_and_is_audited(alice, clinician, ward, notes, settings):
    response = break_glass(alice, ward["icu"])
    assert response.status_code == 302 and response["Location"] == reverse("chart_detail", args=[ward["icu"].pk])
    grant = BreakGlassGrant.objects.get()
    assert (grant.user, grant.patient, grant.reason) == (clinician, ward["icu"], REASON)
    assert grant.expires_at - grant.granted_at == timedelta(hours=settings.BREAK_GLASS_HOURS)
    event = AuditEvent.objects.get(action="break_glass")
    assert (event.actor_id, event.patient_id, event.reason, event.object_id) == (
        clinician.pk,
        ward["icu"].pk,
        REASON,
        str(grant.pk),
    )

    chart = alice.get(reverse("chart_detail", args=[ward["icu"].pk]))
    assert chart.status_code == 200 and b'id="break-glass-banner"' in chart.content and b"T-003" in chart.content
    # Her own unit's chart carries no banner.
    assert b'id="break-glass-banner"' not in alice.get(reverse("chart_detail", args=[ward["p1"].pk])).content


def test_the_reason_is_capped(alice, ward):
    words = "covering ICU bed 12 during rapid response " * 13  # a real reason, 546 characters
    response = break_glass(alice, ward["icu"], reason=words[:501])
    assert response.status_code == 200 and not BreakGlassGrant.objects.exists()
    break_glass(alice, ward["icu"], reason=words[:500])
    assert len(BreakGlassGrant.objects.get().reason) == 500
    assert len(AuditEvent.objects.get(action="break_glass").reason) == 500


def test_an_expired_grant_gives_no_access(alice, clinician, ward):
    break_glass(alice, ward["icu"])
    BreakGlassGrant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert alice.get(reverse("chart_detail", args=[ward["icu"].pk])).status_code == 403
    assert access_scope(user=clinician).patient_ids == ()


def test_a_grant_is_for_its_user_and_patient_only(alice, ward, outsider, make_user):
    break_glass(alice, ward["icu"])
    colleague = Client()
    colleague.force_login(make_user("carl", "clinician", "5E"))
    assert colleague.get(reverse("chart_detail", args=[ward["icu"].pk])).status_code == 403


def test_a_chart_in_scope_needs_no_break_glass(alice, ward):
    response = alice.get(reverse("break_glass_create", args=[ward["p1"].pk]))
    assert response.status_code == 302 and response["Location"] == reverse("chart_detail", args=[ward["p1"].pk])
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize("role_fixture", ["admin_user", "privacy_officer"])
def test_admins_and_privacy_officers_cannot_break_glass(request, role_fixture, ward, client):
    login_verified(client, request.getfixturevalue(role_fixture))
    offer = reverse("break_glass_create", args=[ward["icu"].pk]).encode()
    assert offer not in client.get(reverse("chart_detail", args=[ward["icu"].pk])).content
    assert break_glass(client, ward["icu"]).status_code == 403
    assert not BreakGlassGrant.objects.exists()


def test_the_next_parameter_cannot_leave_the_site(alice, ward):
    assert break_glass(alice, ward["icu"], next_url="https://evil.example/")["Location"] == reverse(
        "chart_detail", args=[ward["icu"].pk]
    )


def test_a_privacy_officer_reviews_the_grant(alice, ward, privacy_officer, nurse):
    break_glass(alice, ward["icu"])
    grant = BreakGlassGrant.objects.get()
    po = login_verified(Client(), privacy_officer)
    page = po.get(reverse("break_glass_review_list"))
    assert page.status_code == 200 and REASON.encode() in page.content and b"alice" in page.content
    assert b"ICU note" not in page.content and b"Castillo" not in page.content

    assert po.post(reverse("break_glass_review", args=[grant.pk]), {"comment": ""}).status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_at is None

    po.post(reverse("break_glass_review", args=[grant.pk]), {"comment": "Confirmed with the ICU charge nurse."})
    grant.refresh_from_db()
    assert (grant.reviewed_by, grant.review_comment) == (privacy_officer, "Confirmed with the ICU charge nurse.")
    event = AuditEvent.objects.get(action="break_glass_review")
    assert (event.actor_id, event.patient_id, event.object_id) == (privacy_officer.pk, ward["icu"].pk, str(grant.pk))
    assert REASON.encode() not in po.get(reverse("break_glass_review_list")).content  # off the queue


@pytest.mark.parametrize("role_fixture", ["clinician", "nurse", "admin_user"])
def test_only_privacy_officers_review(request, role_fixture, ward, client, alice):
    break_glass(alice, ward["icu"])
    grant = BreakGlassGrant.objects.get()
    other = login_verified(Client(), request.getfixturevalue(role_fixture))
    assert other.get(reverse("break_glass_review_list")).status_code == 403
    assert other.post(reverse("break_glass_review", args=[grant.pk]), {"comment": "ok"}).status_code == 403
    grant.refresh_from_db()
    assert grant.reviewed_at is None


def test_a_note_view_shows_text_and_is_audited(clinician, notes, client):
    client.force_login(clinician)
    response = client.get(reverse("note_detail", args=[notes["T-001"].pk]))
    assert b"Ruth note. Afebrile." in response.content
    assert AuditEvent.objects.filter(action="note_view", object_id=str(notes["T-001"].pk)).count() == 1
