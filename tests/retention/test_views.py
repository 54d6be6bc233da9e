import pytest
from django.test import Client
from django.urls import reverse

from clinsum.audit.models import AuditEvent
from clinsum.retention.models import DeletionReceipt, LegalHold, RetentionPolicy
from clinsum.retention.purge import retention_purge_round, retention_purge_run, retention_purge_start
from clinsum.retention.services import (
    retention_policy_create,
)
from tests.accounts.mfa import login_verified

from .conftest import NOW, add_note

GET_PAGES = ["retention_policy_list", "retention_policy_create", "retention_hold_list", "retention_receipt_list"]


def post_previewed(client, url: str, data: dict):
    """What an administrator does: Preview, then "Save this policy" on the preview shown."""
    preview = client.post(url, {**data, "step": "preview"})
    assert preview.status_code == 200 and preview.context["preview"] is not None
    return client.post(url, {**data, "step": "save", "previewed": preview.context["previewed"]})


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("actor", ["clinician", "nurse", "privacy_officer", "outsider"])
def test_it_refuses_every_other_role(client, request, ward, progress_policy, actor):
    client.force_login(request.getfixturevalue(actor))
    for page in GET_PAGES:
        assert client.get(reverse(page)).status_code == 403, page
    assert client.get(reverse("retention_policy_edit", args=[progress_policy.pk])).status_code == 403
    posts = [
        (reverse("retention_policy_create"), {"target": "consult", "keep_days": 10, "active": "on"}),
        (reverse("retention_policy_edit", args=[progress_policy.pk]), {"keep_days": 1, "active": "on"}),
        (reverse("retention_hold_place"), {"mrn": "T-001", "reason": "x"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert RetentionPolicy.objects.get().keep_days == 30 and not LegalHold.objects.exists()


def test_anonymous_users_are_sent_to_login(client, db):
    response = client.get(reverse("retention_policy_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_lists_policies_with_what_is_due(admin_client, ward, progress_policy):
    add_note("T-001", "An old note.", days_ago=400)
    response = admin_client.get(reverse("retention_policy_list"))
    assert response.status_code == 200
    ((policy, plan),) = response.context["rows"]
    assert policy == progress_policy and plan.count == 1
    assert "An old note" not in response.content.decode()


def test_it_creates_a_policy_and_audits_it(admin_client, db):
    response = post_previewed(
        admin_client, reverse("retention_policy_create"), {"target": "consult", "keep_days": 3650, "active": "on"}
    )
    assert response.status_code == 302
    policy = RetentionPolicy.objects.get()
    assert (policy.target, policy.keep_days, policy.active) == ("consult", 3650, True)
    event = AuditEvent.objects.get(action="retention_policy_change")
    assert (event.actor_username, event.object_id) == ("adam", str(policy.pk)) and "keep_days=3650" in event.reason


def test_it_refuses_a_second_policy_for_the_same_target(admin_client, progress_policy):
    response = post_previewed(admin_client, reverse("retention_policy_create"), {"target": "progress", "keep_days": 5})
    assert response.status_code == 200 and "exists already" in response.content.decode()
    assert RetentionPolicy.objects.count() == 1 and not AuditEvent.objects.exists()


def test_it_refuses_zero_days(admin_client, db):
    response = admin_client.post(reverse("retention_policy_create"), {"target": "consult", "keep_days": 0})
    assert response.status_code == 200 and not RetentionPolicy.objects.exists()


def test_it_edits_a_policy_and_audits_the_change(admin_client, progress_policy):
    response = post_previewed(
        admin_client, reverse("retention_policy_edit", args=[progress_policy.pk]), {"keep_days": 60}
    )
    assert response.status_code == 302
    progress_policy.refresh_from_db()
    assert (progress_policy.keep_days, progress_policy.active) == (60, False)
    event = AuditEvent.objects.get(action="retention_policy_change")
    assert "keep_days 30->60" in event.reason and "active True->False" in event.reason


def test_an_unchanged_edit_is_not_audited(admin_client, progress_policy):
    url = reverse("retention_policy_edit", args=[progress_policy.pk])
    assert post_previewed(admin_client, url, {"keep_days": 30, "active": "on"}).status_code == 302
    assert not AuditEvent.objects.filter(action="retention_policy_change").exists()


def test_a_policy_is_previewed_before_it_is_saved(admin_client, ward, admin_user):
    old = add_note("T-001", "OLDNOTETEXT from the first stay.", days_ago=400)
    add_note("T-001", "An older note still.", days_ago=300)
    add_note("T-002", "A recent note.", days_ago=0)
    add_note("T-003", "Held ICU note.", days_ago=500)
    LegalHold.objects.create(patient=ward["icu"], reason="Matter 5", placed_by=admin_user)
    url = reverse("retention_policy_create")
    data = {"target": "progress", "keep_days": 3000, "active": "on"}

    first = admin_client.post(url, data)  # Enter in the form: the preview, never a save
    assert first.status_code == 200 and not RetentionPolicy.objects.exists()
    preview = first.context["preview"]
    assert (preview.count, preview.held) == (0, 0)
    data["keep_days"] = 100
    second = admin_client.post(url, {**data, "step": "save", "previewed": first.context["previewed"]})
    assert second.status_code == 200 and not RetentionPolicy.objects.exists()  # changed since the preview
    assert "The values changed since the last preview" in second.content.decode()
    preview = second.context["preview"]
    assert (preview.count, preview.oldest, preview.held) == (2, old.authored_at, 1)
    body = second.content.decode()
    assert "would delete <strong>2</strong> records; the oldest from <strong>" in body
    assert old.authored_at.strftime("%Y-%m-%d") in body and "1 more is past the period but kept by a legal hold" in body
    for phi in ("T-001", "T-003", "Ashford", "Castillo", "OLDNOTETEXT"):
        assert phi not in body, phi
    assert not AuditEvent.objects.filter(action="retention_policy_change").exists()

    saved = admin_client.post(url, {**data, "step": "save", "previewed": second.context["previewed"]})
    assert saved.status_code == 302
    assert RetentionPolicy.objects.get().pending_keep_days == 100  # below the floor: a second admin approves


def test_the_preview_says_a_short_note_policy_waits_for_a_second_admin(admin_client, db):
    response = admin_client.post(reverse("retention_policy_create"), {"target": "progress", "keep_days": 5})
    body = response.content.decode()
    assert "Needs a second administrator" in body and "inactive" in body
    assert not RetentionPolicy.objects.exists()


def test_an_edit_previews_the_new_period(admin_client, ward, progress_policy):
    add_note("T-001", "An old note.", days_ago=400)
    url = reverse("retention_policy_edit", args=[progress_policy.pk])
    response = admin_client.post(url, {"keep_days": 1000, "active": "on", "step": "preview"})
    assert response.context["preview"].count == 0 and "Save this policy" in response.content.decode()
    assert admin_client.post(url, {"keep_days": 365, "active": "on"}).context["preview"].count == 1
    assert RetentionPolicy.objects.get().keep_days == 30


def test_it_places_a_hold_by_mrn_and_audits_it(admin_client, ward, admin_user):
    response = admin_client.post(reverse("retention_hold_place"), {"mrn": "T-002", "reason": "Matter 2026-17"})
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.patient, hold.placed_by, hold.is_active()) == (ward["p2"], admin_user, True)
    event = AuditEvent.objects.get(action="legal_hold_place")
    assert (event.patient_id, event.object_id) == (ward["p2"].pk, str(hold.pk))


def test_an_unknown_mrn_places_nothing(admin_client, ward):
    response = admin_client.post(reverse("retention_hold_place"), {"mrn": "NOPE", "reason": "Matter"})
    assert response.status_code == 400 and "No patient has this MRN" in response.content.decode()
    assert not LegalHold.objects.exists() and not AuditEvent.objects.filter(action="legal_hold_place").exists()


def test_the_hold_list_shows_the_patient_id_only(admin_client, ward, admin_user):
    """Separation of duties (issue 14): an administrator sees no patient identity, not even the MRN."""
    LegalHold.objects.create(patient=ward["p1"], reason="Matter 9", placed_by=admin_user)
    body = admin_client.get(reverse("retention_hold_list")).content.decode()
    assert f'<th scope="row">{ward["p1"].pk}</th>' in body and "Matter 9" in body
    assert "T-001" not in body and "Ashford" not in body and "Ruth" not in body
    assert AuditEvent.objects.filter(action="legal_hold_list_view").exists()


def test_it_releases_a_hold_and_audits_it(admin_client, ward, admin_user):
    hold = LegalHold.objects.create(patient=ward["p1"], reason="Matter", placed_by=admin_user)
    assert admin_client.post(reverse("retention_hold_release", args=[hold.pk])).status_code == 302
    hold.refresh_from_db()
    assert not hold.is_active() and hold.released_by == admin_user
    assert AuditEvent.objects.get(action="legal_hold_release").patient_id == ward["p1"].pk
    again = admin_client.post(reverse("retention_hold_release", args=[hold.pk]))
    assert again.status_code == 400 and AuditEvent.objects.filter(action="legal_hold_release").count() == 1


def test_release_needs_post(admin_client, ward, admin_user):
    hold = LegalHold.objects.create(patient=ward["p1"], reason="Matter", placed_by=admin_user)
    assert admin_client.get(reverse("retention_hold_release", args=[hold.pk])).status_code == 405


def test_it_lists_receipts(admin_client, ward, progress_policy):
    add_note("T-001", "An old note.", days_ago=400)
    receipt = retention_purge_run(now=NOW)
    response = admin_client.get(reverse("retention_receipt_list"))
    assert response.status_code == 200
    assert list(response.context["receipts"]) == [receipt]
    assert receipt.deleted_ids_sha256 in response.content.decode()
    assert DeletionReceipt.objects.count() == 1


def test_a_receipt_sealed_after_its_run_died_says_interrupted_not_round_limit(
    admin_client, ward, progress_policy, settings
):
    settings.RETENTION_BATCH_SIZE = 2
    for i in range(3):
        add_note("T-001", f"Expired note number {i}.", days_ago=50 + i)
    dead = retention_purge_start(now=NOW)
    assert retention_purge_round(receipt_id=dead.pk) is True  # then its task dies
    retention_purge_run(now=NOW)  # the next run seals it
    page = admin_client.get(reverse("retention_receipt_list")).content.decode()
    assert "Interrupted; sealed by the next run" in page
    assert "round limit" not in page


def test_the_page_offers_approval_only_to_another_admin(admins):
    first, second = admins
    policy = retention_policy_create(actor=first, target="progress", keep_days=1)
    mine, theirs = login_verified(Client(), first), login_verified(Client(), second)  # admins: TOTP first
    assert "another administrator must approve" in mine.get("/retention/").content.decode()
    assert f"/retention/policies/{policy.pk}/approve/" in theirs.get("/retention/").content.decode()
    theirs.post(f"/retention/policies/{policy.pk}/approve/")
    assert RetentionPolicy.objects.get(pk=policy.pk).keep_days == 1
