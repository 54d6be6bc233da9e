"""The administrator's console: local users, roles and units, offboarding, care teams. Every
change is audited; no other role gets in."""

import pytest
from django.test import Client
from django.urls import reverse

from clinsum.access.models import BreakGlassGrant, CareTeamMember
from clinsum.accounts.models import User
from tests.accounts.mfa import login_verified
from tests.conftest import PASSWORD

from .conftest import audit

NEW_PASSWORD = "vermilion-otter-harbour-42"


def test_it_creates_a_local_user(adam, admin_user):
    response = adam.post(
        reverse("user_create"),
        {
            "username": "Bea",
            "first_name": "Bea",
            "last_name": "Test",
            "role": "nurse",
            "unit": "5E",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    bea = User.objects.get(username="bea")
    assert (bea.role, bea.unit, bea.check_password(NEW_PASSWORD)) == ("nurse", "5E", True)
    assert bea.password.startswith("argon2")
    event = audit("user_create").get()
    assert (event.actor_id, event.object_id) == (admin_user.pk, str(bea.pk))
    assert NEW_PASSWORD not in event.reason


@pytest.mark.parametrize("password", ["short", "password1234", "123456789012"])
def test_weak_passwords_are_refused(adam, password):
    response = adam.post(
        reverse("user_create"), {"username": "bea", "role": "nurse", "password": password, "password_again": password}
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="bea").exists()


def test_a_duplicate_username_is_refused(adam, clinician):
    response = adam.post(
        reverse("user_create"),
        {"username": "ALICE", "role": "nurse", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert response.status_code == 200 and b"exists already" in response.content


def test_it_changes_role_and_unit(adam, clinician):
    assert adam.get(reverse("user_edit", args=[clinician.pk])).status_code == 200
    adam.post(reverse("user_edit", args=[clinician.pk]), {"role": "nurse", "unit": "ICU"})
    clinician.refresh_from_db()
    assert (clinician.role, clinician.unit) == ("nurse", "ICU")
    assert audit("user_update").get().reason == "role clinician->nurse; unit 4W->ICU"


def test_an_admin_cannot_change_their_own_role(adam, admin_user):
    response = adam.post(reverse("user_edit", args=[admin_user.pk]), {"role": "clinician", "unit": "4W"})
    assert response.status_code == 200
    admin_user.refresh_from_db()
    assert admin_user.role == "admin"


def test_offboarding_ends_sessions_and_removes_care_teams_and_grants(adam, clinician, ward):
    from django.utils import timezone

    CareTeamMember.objects.create(patient=ward["icu"], user=clinician)
    now = timezone.now()
    BreakGlassGrant.objects.create(
        user=clinician,
        patient=ward["icu"],
        reason="x" * 20,
        granted_at=now,
        expires_at=now + timezone.timedelta(hours=4),
    )
    alice = Client()
    alice.force_login(clinician)
    adam.post(reverse("user_deactivate", args=[clinician.pk]))
    clinician.refresh_from_db()
    assert not clinician.is_active
    assert not CareTeamMember.objects.filter(user=clinician).exists()
    assert not BreakGlassGrant.objects.get().is_active(timezone.now())
    assert alice.get(reverse("patient_list")).status_code == 302
    assert audit("user_deactivate").get().reason == "sessions=1 care_teams=1 break_glass_ended=1"


def test_reactivation(adam, clinician):
    adam.post(reverse("user_deactivate", args=[clinician.pk]))
    adam.post(reverse("user_reactivate", args=[clinician.pk]))
    clinician.refresh_from_db()
    assert clinician.is_active and audit("user_reactivate").count() == 1
    assert Client().post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302


def test_an_admin_cannot_deactivate_themself(adam, admin_user):
    adam.post(reverse("user_deactivate", args=[admin_user.pk]))
    admin_user.refresh_from_db()
    assert admin_user.is_active and not audit("user_deactivate").exists()


def test_a_lost_phone_is_reset_and_the_user_enrols_again(adam, make_user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    paula = make_user("paula", "privacy_officer")
    browser = login_verified(Client(), paula)
    adam.post(reverse("user_mfa_reset", args=[paula.pk]))
    assert not TOTPDevice.objects.filter(user=paula).exists()
    assert audit("mfa_reset").get().reason == "devices=1 sessions=1"
    assert browser.get(reverse("audit_event_list"))["Location"].startswith(reverse("login"))
    browser.post(reverse("login"), {"username": "paula", "password": PASSWORD})
    assert browser.get(reverse("audit_event_list"))["Location"].startswith(reverse("mfa_enrol"))


def test_care_teams_are_managed_by_patient_id_and_audited(adam, admin_user, outsider, ward):
    page = adam.get(reverse("care_team_search"))
    assert page.status_code == 200
    response = adam.get(reverse("care_team_search"), {"patient": ward["p1"].pk})
    assert response["Location"] == reverse("care_team_detail", args=[ward["p1"].pk])
    detail = adam.get(response["Location"]).content.decode()
    assert f"Patient id <strong>{ward['p1'].pk}</strong>" in detail and "T-001" not in detail
    assert audit("care_team_view").get().patient_id == ward["p1"].pk

    adam.post(reverse("care_team_add", args=[ward["p1"].pk]), {"username": "charlie"})
    assert CareTeamMember.objects.filter(patient=ward["p1"], user=outsider).exists()
    event = audit("care_team_add").get()
    assert (event.actor_id, event.patient_id, event.object_id) == (admin_user.pk, ward["p1"].pk, str(outsider.pk))

    adam.post(reverse("care_team_remove", args=[ward["p1"].pk, outsider.pk]))
    assert not CareTeamMember.objects.filter(patient=ward["p1"], user=outsider).exists()
    assert audit("care_team_remove").get().patient_id == ward["p1"].pk


def test_an_unknown_patient_id_is_said_so(adam, ward):
    response = adam.get(reverse("care_team_search"), {"patient": 999999})
    assert response.status_code == 200 and b"No patient has this id" in response.content


def test_only_clinicians_and_nurses_join_care_teams(adam, admin_user, privacy_officer, ward):
    adam.post(reverse("care_team_add", args=[ward["p1"].pk]), {"username": "priya"})
    assert not CareTeamMember.objects.exists()


def test_the_care_team_page_shows_no_note_text(adam, ward):
    from clinsum.charts.services import notes_ingest
    from tests.conftest import note_record

    notes_ingest(notes=[note_record("T-001", "Ruth note. Afebrile.")])
    assert b"Afebrile" not in adam.get(reverse("care_team_detail", args=[ward["p1"].pk])).content


@pytest.mark.parametrize("role_fixture", ["clinician", "nurse", "privacy_officer"])
def test_other_roles_are_refused_everywhere(request, role_fixture, ward, outsider, client):
    login_verified(client, request.getfixturevalue(role_fixture))
    for name, args in [
        ("user_list", []),
        ("user_create", []),
        ("user_edit", [outsider.pk]),
        ("care_team_search", []),
        ("care_team_detail", [ward["p1"].pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    for name, args in [
        ("user_deactivate", [outsider.pk]),
        ("user_reactivate", [outsider.pk]),
        ("user_unlock", [outsider.pk]),
        ("user_mfa_reset", [outsider.pk]),
        ("care_team_add", [ward["p1"].pk]),
        ("care_team_remove", [ward["p1"].pk, outsider.pk]),
    ]:
        assert client.post(reverse(name, args=args), {"username": "charlie"}).status_code == 403, name
    outsider.refresh_from_db()
    assert outsider.is_active and not CareTeamMember.objects.exists()
