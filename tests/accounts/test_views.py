"""accounts/views.py through the test client: logging in and out, two-step verification and the
enrolment codes an administrator issues, the password change, the administrator's user console,
and the privacy officers' review of role grants. Every change is audited; other roles are refused."""

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinsum.access.models import BreakGlassGrant, CareTeamMember
from clinsum.accounts.models import AccountChange, MFAEnrolmentCode, User
from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import enrolment_unlock, login_verified, totp_device, totp_now
from tests.conftest import PASSWORD

from .conftest import (
    OWN,
    TEMPORARY,
    audit,
    created_by_admin,
    fail_until_locked,
    idle_for,
    last_activity,
    logged_in,
    login,
    password_login,
)

NEW_PASSWORD = "vermilion-otter-harbour-42"


SECRET_MARKERS = ("Key for manual entry", "<svg")


def reset_code(adam, user) -> str:
    response = adam.post(reverse("user_mfa_reset", args=[user.pk]))
    assert response.status_code == 200
    return response.context["code"]


# --- Logging in and out (LoginView, LogoutView, home, session_keepalive) ------------------------


def test_it_logs_in_rotates_the_session_and_audits(clinician, client):
    client.get(reverse("login"))
    before = client.cookies.get("sessionid")
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != (before.value if before else None)
    assert AuditEvent.objects.filter(action="login", actor_id=clinician.pk).count() == 1


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


def test_a_wrong_password_is_refused_and_audited(clinician, client):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200 and b"didn't match" in response.content
    event = AuditEvent.objects.get(action="login_failed")
    assert (event.outcome, event.object_id, event.actor_id) == ("denied", "alice", None)


def test_a_failed_login_never_stores_an_unknown_username_verbatim(db, make_user):
    make_user("frank", "clinician", "4W")
    client = Client()
    client.post("/login/", {"username": "Winter2026!secret", "password": "x"})
    client.post("/login/", {"username": "frank", "password": "wrong"})
    stored = list(AuditEvent.objects.filter(action="login_failed").order_by("seq").values_list("object_id", flat=True))
    assert stored[0].startswith("unknown:") and "Winter" not in stored[0]
    assert stored[1] == "frank"


def test_logout_needs_post(clinician, client):
    client.force_login(clinician)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302


def test_logout_is_audited(clinician, client):
    password_login(client)
    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(action="logout", actor_id=clinician.pk).count() == 1


def test_home_routes_each_role_to_its_page(clinician, admin_user, privacy_officer, client):
    for user, target in ((clinician, "patient_list"), (admin_user, "user_list"), (privacy_officer, "audit_event_list")):
        login_verified(client, user)
        assert client.get(reverse("home"))["Location"] == reverse(target)


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


# --- Two-step verification (mfa_verify, mfa_enrol) -----------------------------------------------


def test_the_mfa_pages_need_a_login(client):
    assert client.get(reverse("mfa_verify"))["Location"].startswith(reverse("login"))
    assert client.get(reverse("mfa_enrol"))["Location"].startswith(reverse("login"))


def test_the_enrolment_page_draws_the_qr_code_itself(admin_user, client):
    password_login(client, "adam")
    enrolment_unlock(client, admin_user)
    html = client.get(reverse("mfa_enrol")).content.decode()
    assert "<svg" in html and "<?xml" not in html
    device = totp_device(admin_user, confirmed=False)
    from clinsum.accounts.mfa import totp_secret_base32

    assert totp_secret_base32(device) in html
    assert "<img" not in html and "http://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    # Reloading keeps the same secret.
    assert totp_secret_base32(device) in client.get(reverse("mfa_enrol")).content.decode()


def test_enrolment_is_confirmed_by_a_valid_code(admin_user, client):
    password_login(client, "adam")
    enrolment_unlock(client, admin_user)
    client.get(reverse("mfa_enrol"))
    device = totp_device(admin_user, confirmed=False)
    before = client.session.session_key
    response = client.post(reverse("mfa_enrol") + "?next=/users/", {"token": totp_now(device), "next": "/users/"})
    assert response.status_code == 302 and response["Location"] == "/users/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.session.session_key != before  # raised privilege: new session id
    assert client.get(reverse("user_list")).status_code == 200
    assert AuditEvent.objects.filter(action="mfa_enrol", actor_id=admin_user.pk).count() == 1


def test_a_wrong_enrolment_code_is_refused(admin_user, client):
    password_login(client, "adam")
    enrolment_unlock(client, admin_user)
    client.get(reverse("mfa_enrol"))
    response = client.post(reverse("mfa_enrol"), {"token": "000000"})
    assert response.status_code == 200 and b"not valid" in response.content
    assert client.get(reverse("user_list")).status_code == 302
    assert AuditEvent.objects.filter(action="mfa_failed", outcome="denied").count() == 1


def test_an_enrolled_admin_must_give_a_code_at_each_login(admin_user, adam_with_phone, client):
    password_login(client, "adam")
    response = client.get(reverse("user_list"))
    assert response["Location"] == reverse("mfa_verify") + "?next=/users/"
    assert client.get(reverse("mfa_enrol"))["Location"].startswith(reverse("mfa_verify"))  # no second device
    assert client.post(reverse("mfa_verify"), {"token": "123456"}).status_code == 200
    assert client.get(reverse("user_list")).status_code == 302
    adam_with_phone.refresh_from_db()
    adam_with_phone.throttle_reset()  # a failure throttles the next try for a second
    response = client.post(reverse("mfa_verify"), {"token": totp_now(adam_with_phone), "next": "/users/"})
    assert response["Location"] == "/users/"
    assert client.get(reverse("user_list")).status_code == 200
    assert AuditEvent.objects.filter(action="mfa_verify", actor_id=admin_user.pk).count() == 1
    # The next login needs a code again.
    client.post(reverse("logout"))
    password_login(client, "adam")
    assert client.get(reverse("user_list")).status_code == 302


def test_a_code_cannot_be_used_twice(admin_user, adam_with_phone):
    token = totp_now(adam_with_phone)
    first, second = password_login(Client(), "adam"), password_login(Client(), "adam")
    assert first.post(reverse("mfa_verify"), {"token": token})["Location"] == reverse("home")
    assert second.post(reverse("mfa_verify"), {"token": token}).status_code == 200


def test_the_next_parameter_cannot_leave_the_site(admin_user, adam_with_phone, client):
    password_login(client, "adam")
    response = client.post(reverse("mfa_verify"), {"token": totp_now(adam_with_phone), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


# --- Enrolment codes: issued by an administrator (user_mfa_reset), redeemed at mfa_enrol ---------


def test_after_a_reset_the_password_alone_shows_no_secret(adam, privacy_officer):
    login_verified(Client(), privacy_officer)
    reset_code(adam, privacy_officer)
    client = logged_in("priya", PASSWORD)
    assert client.get(reverse("audit_event_list"))["Location"].startswith(reverse("mfa_enrol"))
    html = client.get(reverse("mfa_enrol")).content.decode()
    assert "enrolment code" in html.lower() and not any(marker in html for marker in SECRET_MARKERS)
    assert not TOTPDevice.objects.filter(user=privacy_officer).exists()  # no secret was even drawn
    # Posting an authenticator code without the enrolment code enrols nothing.
    client.post(reverse("mfa_enrol"), {"token": "123456"})
    assert not TOTPDevice.objects.filter(user=privacy_officer).exists()


@pytest.mark.real_hashers
def test_the_code_is_shown_once_stored_hashed_and_audited(adam, admin_user, privacy_officer):
    response = adam.post(reverse("user_mfa_reset", args=[privacy_officer.pk]))
    code = response.context["code"]
    assert code in response.content.decode() and len(code.replace("-", "")) == 12
    row = MFAEnrolmentCode.objects.get()
    assert row.code_hash.startswith("argon2") and code.replace("-", "") not in row.code_hash
    assert row.issued_by == admin_user and row.expires_at - row.issued_at == timedelta(hours=24)
    event = audit("mfa_code_issue").get()
    assert (event.actor_id, event.object_id) == (admin_user.pk, str(privacy_officer.pk))
    assert code not in event.reason and code.replace("-", "") not in event.reason
    assert code not in adam.get(reverse("user_edit", args=[privacy_officer.pk])).content.decode()


def test_the_right_code_unlocks_enrolment_once(adam, privacy_officer):
    code = reset_code(adam, privacy_officer)
    client = logged_in("priya", PASSWORD)
    response = client.post(reverse("mfa_enrol"), {"code": code.lower().replace("-", " "), "next": "/audit/"})
    assert response["Location"] == reverse("mfa_enrol") + "?next=%2Faudit%2F"
    html = client.get(response["Location"]).content.decode()
    assert all(marker in html for marker in SECRET_MARKERS)
    assert audit("mfa_code_redeem").get().actor_id == privacy_officer.pk
    device = totp_device(privacy_officer, confirmed=False)
    done = client.post(reverse("mfa_enrol"), {"token": totp_now(device), "next": "/audit/"})
    assert done["Location"] == "/audit/" and client.get("/audit/").status_code == 200
    # Used: another session with the password and the same code gets nowhere.
    other = logged_in("priya", PASSWORD)
    assert other.get(reverse("mfa_enrol"))["Location"].startswith(reverse("mfa_verify"))
    TOTPDevice.objects.filter(user=privacy_officer).delete()
    assert other.post(reverse("mfa_enrol"), {"code": code}).status_code == 200
    assert not any(marker in other.get(reverse("mfa_enrol")).content.decode() for marker in SECRET_MARKERS)
    assert audit("mfa_code_failed").get().reason == "no unused code"


def test_a_secret_drawn_before_the_code_is_void(adam, privacy_officer):
    code = reset_code(adam, privacy_officer)
    old = TOTPDevice.objects.create(user=privacy_officer, name="seen before", confirmed=False)
    client = logged_in("priya", PASSWORD)
    client.post(reverse("mfa_enrol"), {"code": code})
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_a_wrong_code_is_refused_and_counted(adam, privacy_officer):
    code = reset_code(adam, privacy_officer)
    client = logged_in("priya", PASSWORD)
    response = client.post(reverse("mfa_enrol"), {"code": "AAAA-BBBB-CCCC"})
    assert response.status_code == 200 and b"not valid" in response.content
    assert not any(marker in response.content.decode() for marker in SECRET_MARKERS)
    assert MFAEnrolmentCode.objects.get().failed_attempts == 1
    event = audit("mfa_code_failed").get()
    assert (event.outcome, event.reason) == ("denied", "wrong code (attempt 1)")
    assert "AAAA" not in event.reason and code not in event.reason


def test_five_wrong_tries_void_the_code(adam, privacy_officer):
    code = reset_code(adam, privacy_officer)
    client = logged_in("priya", PASSWORD)
    for _ in range(5):
        client.post(reverse("mfa_enrol"), {"code": "AAAA-BBBB-CCCC"})
    assert client.post(reverse("mfa_enrol"), {"code": code}).status_code == 200
    assert audit("mfa_code_failed").last().reason == "too many attempts"
    assert not any(marker in client.get(reverse("mfa_enrol")).content.decode() for marker in SECRET_MARKERS)


def test_an_expired_code_is_refused(adam, privacy_officer):
    code = reset_code(adam, privacy_officer)
    MFAEnrolmentCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client = logged_in("priya", PASSWORD)
    assert client.post(reverse("mfa_enrol"), {"code": code}).status_code == 200
    assert audit("mfa_code_failed").get().reason == "expired"


def test_a_new_code_voids_the_old_one(adam, privacy_officer):
    first = reset_code(adam, privacy_officer)
    second = reset_code(adam, privacy_officer)
    client = logged_in("priya", PASSWORD)
    assert client.post(reverse("mfa_enrol"), {"code": first}).status_code == 200
    assert client.post(reverse("mfa_enrol"), {"code": second}).status_code == 302


def test_a_new_admin_account_comes_with_a_code(adam):
    user, response = created_by_admin(adam, "newadmin", "admin")
    code = response.context["code"]
    assert code in response.content.decode() and MFAEnrolmentCode.objects.get().user == user
    client = logged_in("newadmin")
    client.post(reverse("password_change"), {"old_password": TEMPORARY, "new_password1": OWN, "new_password2": OWN})
    assert client.get(reverse("user_list"))["Location"].startswith(reverse("mfa_enrol"))
    assert client.post(reverse("mfa_enrol"), {"code": code}).status_code == 302
    assert "Key for manual entry" in client.get(reverse("mfa_enrol")).content.decode()


def test_an_admin_cannot_issue_their_own_code(adam, admin_user):
    adam.post(reverse("user_mfa_reset", args=[admin_user.pk]))
    assert not MFAEnrolmentCode.objects.exists()


# --- Changing the password (password_change) -----------------------------------------------------


def test_an_admin_created_user_must_change_the_password_first(adam, ward):
    bea, _ = created_by_admin(adam, "bea", "nurse", "4W")
    assert bea.must_change_password
    client = logged_in("bea")
    response = client.get(reverse("patient_list"))
    assert response["Location"] == reverse("password_change") + "?next=/patients/"
    assert client.get(reverse("chart_detail", args=[ward["p1"].pk]))["Location"].startswith(reverse("password_change"))
    assert client.get(reverse("patient_list"), HTTP_HX_REQUEST="true")["HX-Redirect"].startswith(
        reverse("password_change")
    )
    page = client.get(reverse("password_change"))
    assert page.status_code == 200 and b"An administrator set your current password" in page.content

    wrong = client.post(
        reverse("password_change"), {"old_password": "nope", "new_password1": OWN, "new_password2": OWN}
    )
    assert wrong.status_code == 200 and audit("password_change_failed").get().outcome == "denied"
    same = client.post(
        reverse("password_change"), {"old_password": TEMPORARY, "new_password1": TEMPORARY, "new_password2": TEMPORARY}
    )
    assert same.status_code == 200 and b"different from the current one" in same.content
    weak = client.post(
        reverse("password_change"),
        {"old_password": TEMPORARY, "new_password1": "password1234", "new_password2": "password1234"},
    )
    assert weak.status_code == 200 and b"too common" in weak.content

    done = client.post(
        reverse("password_change"),
        {"old_password": TEMPORARY, "new_password1": OWN, "new_password2": OWN, "next": "/patients/"},
    )
    assert done["Location"] == "/patients/"
    assert client.get(reverse("patient_list")).status_code == 200  # same session goes on
    bea.refresh_from_db()
    assert not bea.must_change_password and bea.check_password(OWN) and not bea.check_password(TEMPORARY)
    event = audit("password_change").get()
    assert (event.actor_id, event.object_id, event.reason) == (bea.pk, str(bea.pk), "required at first login")
    stored = " ".join(AuditEvent.objects.values_list("reason", flat=True))
    assert OWN not in stored and TEMPORARY not in stored
    assert Client().post(reverse("login"), {"username": "bea", "password": TEMPORARY}).status_code == 200
    assert logged_in("bea", OWN).get(reverse("patient_list")).status_code == 200


@pytest.mark.parametrize("who", ["alice", "priya"])
def test_the_home_page_after_a_password_change_confirms_it(clinician, privacy_officer, who):
    """The change leads to the user's home page (the ward list, the audit trail): the
    confirmation is shown there, not left for some later page."""
    client = login_verified(Client(), {"alice": clinician, "priya": privacy_officer}[who])
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": OWN, "new_password2": OWN}, follow=True
    )
    assert response.redirect_chain[-1][0] in (reverse("patient_list"), reverse("audit_event_list"))
    assert "Your password has been changed." in response.content.decode()


def test_a_password_change_ends_the_users_other_sessions(clinician):
    other = logged_in("alice", PASSWORD)
    client = logged_in("alice", PASSWORD)
    client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": OWN, "new_password2": OWN})
    assert client.get(reverse("patient_list")).status_code == 200
    assert other.get(reverse("patient_list"))["Location"].startswith(reverse("login"))
    assert audit("password_change").get().reason == ""


# --- The administrator's console: users (user_list, user_create, user_edit, user_*) -------------


def test_only_admins_see_the_user_list(clinician, admin_user, client):
    client.force_login(clinician)
    assert client.get(reverse("user_list")).status_code == 403
    login_verified(client, admin_user)
    response = client.get(reverse("user_list"))
    assert response.status_code == 200 and b"alice" in response.content


@pytest.mark.real_hashers
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
    adam.post(reverse("user_deactivate", args=[clinician.pk]), {"reason": "Left the hospital 31 May"})
    clinician.refresh_from_db()
    assert not clinician.is_active
    assert not CareTeamMember.objects.filter(user=clinician).exists()
    assert not BreakGlassGrant.objects.get().is_active(timezone.now())
    assert alice.get(reverse("patient_list")).status_code == 302
    assert audit("user_deactivate").get().reason == (
        "Left the hospital 31 May; sessions=1 care_teams=1 break_glass_ended=1"
    )


def test_deactivating_a_user_ends_all_their_sessions_at_once(clinician, admin_user, ward, client):
    other_browser = password_login(Client())
    password_login(client)
    admin = login_verified(Client(), admin_user)
    assert (
        admin.post(reverse("user_deactivate", args=[clinician.pk]), {"reason": "left the hospital"}).status_code == 302
    )
    for browser in (client, other_browser):
        response = browser.get(reverse("patient_list"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 200


def test_deactivation_asks_to_confirm_who_and_why_first(adam, clinician):
    other_browser = logged_in("alice", PASSWORD)
    page = adam.get(reverse("user_edit", args=[clinician.pk]))
    assert reverse("user_deactivate", args=[clinician.pk]).encode() in page.content
    confirm = adam.get(reverse("user_deactivate", args=[clinician.pk]))
    text = confirm.content.decode()
    assert confirm.status_code == 200
    for shown in ("Deactivate alice?", "Alice Test", "Clinician", "4W", "logged out at once", 'name="reason"'):
        assert shown in text, shown
    assert User.objects.get(pk=clinician.pk).is_active and not audit("user_deactivate").exists()

    for reason in ({}, {"reason": ""}, {"reason": "  x "}):
        refused = adam.post(reverse("user_deactivate", args=[clinician.pk]), reason)
        assert refused.status_code == 400 and b"reason" in refused.content
    assert User.objects.get(pk=clinician.pk).is_active and not audit("user_deactivate").exists()
    assert other_browser.get(reverse("patient_list")).status_code == 200

    done = adam.post(reverse("user_deactivate", args=[clinician.pk]), {"reason": "Moved to another trust"}, follow=True)
    assert b"alice is deactivated" in done.content and b'role="status"' in done.content
    assert not User.objects.get(pk=clinician.pk).is_active
    assert audit("user_deactivate").get().reason.startswith("Moved to another trust; sessions=1")
    assert other_browser.get(reverse("patient_list"))["Location"].startswith(reverse("login"))
    again = adam.get(reverse("user_deactivate", args=[clinician.pk]), follow=True)
    assert b"deactivated already" in again.content


def test_it_finds_a_user_by_name_or_username(adam, clinician, nurse, make_user):
    for username, role, first, last in [
        ("jsmith", "clinician", "Joan", "Smith"),
        ("mjones", "nurse", "Mary", "Smithers"),
    ]:
        User.objects.filter(pk=make_user(username, role, "5E").pk).update(first_name=first, last_name=last)

    def found(q):
        response = adam.get(reverse("user_list"), {"q": q})
        assert response.status_code == 200
        return {u.username for u in response.context["users"]}

    assert found("SMITH") == {"jsmith", "mjones"}
    assert found("joan smith") == {"jsmith"}
    assert found("nin") == {"nina"}
    assert found("  ") == {"adam", "alice", "nina", "jsmith", "mjones"}
    nobody = adam.get(reverse("user_list"), {"q": "zebra"})
    assert "No user's name or username contains “zebra”" in nobody.content.decode()
    assert b'role="search"' in nobody.content


def test_success_messages_are_a_visible_banner(adam, clinician):
    response = adam.post(reverse("user_edit", args=[clinician.pk]), {"role": "nurse", "unit": "4W"}, follow=True)
    assert b'<p class="banner banner-ok" role="status">User alice updated.</p>' in response.content


def test_admin_pages_show_role_labels_never_codes(adam, admin_user, clinician, nurse, privacy_officer, make_user):
    import re

    nobody = make_user("norole", "")
    pages = [
        reverse("user_list"),
        reverse("user_edit", args=[privacy_officer.pk]),
        reverse("user_edit", args=[nobody.pk]),
        reverse("user_deactivate", args=[privacy_officer.pk]),
        reverse("user_deactivate", args=[nobody.pk]),
    ]
    seen = ""
    for url in pages:
        html = adam.get(url).content.decode()
        text = re.sub(r"<[^>]*>", " ", html)  # what is read on the page, not attribute values
        for code in ("privacy_officer", "clinician", "nurse", "admin "):
            assert not re.search(rf"\b{code}", text), (url, code)
        seen += text
    for label in ("Privacy officer", "Clinician", "Nurse", "Administrator", "No role"):
        assert label in seen, label


def test_reactivation(adam, clinician):
    adam.post(reverse("user_deactivate", args=[clinician.pk]), {"reason": "on leave"})
    adam.post(reverse("user_reactivate", args=[clinician.pk]))
    clinician.refresh_from_db()
    assert clinician.is_active and audit("user_reactivate").count() == 1
    assert Client().post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302


def test_an_admin_cannot_deactivate_themself(adam, admin_user):
    page = adam.get(reverse("user_deactivate", args=[admin_user.pk]))
    assert b"You cannot deactivate your own account" in page.content and b'name="reason"' not in page.content
    assert adam.post(reverse("user_deactivate", args=[admin_user.pk]), {"reason": "testing"}).status_code == 400
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


def test_an_admin_unlocks_the_user(clinician, admin_user, client, settings):
    from django.test import Client

    fail_until_locked(client, settings)
    assert login(client, "alice", PASSWORD).status_code == 429
    admin = login_verified(Client(), admin_user)
    assert b"locked out" in admin.get(reverse("user_list")).content
    response = admin.post(reverse("user_unlock", args=[clinician.pk]))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user_unlock")
    assert (event.actor_id, event.object_id) == (admin_user.pk, str(clinician.pk))
    assert login(client, "alice", PASSWORD).status_code == 302


def test_only_admins_unlock(clinician, nurse, client, settings):
    fail_until_locked(client, settings)
    other = login_verified(client.__class__(), nurse)
    assert other.post(reverse("user_unlock", args=[clinician.pk])).status_code == 403
    assert login(client, "alice", PASSWORD).status_code == 429


@pytest.mark.parametrize("role_fixture", ["clinician", "nurse", "privacy_officer"])
def test_other_roles_are_refused_everywhere(request, role_fixture, ward, outsider, client):
    login_verified(client, request.getfixturevalue(role_fixture))
    for name, args in [
        ("user_list", []),
        ("user_create", []),
        ("user_edit", [outsider.pk]),
        ("user_deactivate", [outsider.pk]),
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
        assert client.post(reverse(name, args=args), {"username": "charlie", "reason": "left"}).status_code == 403, name
    outsider.refresh_from_db()
    assert outsider.is_active and not CareTeamMember.objects.exists()


# --- Role grants wait for a privacy officer's review (account_change_review*) -------------------


@pytest.mark.parametrize("role", ["clinician", "nurse", "privacy_officer", "admin"])
def test_creating_an_account_with_a_role_queues_a_review(adam, admin_user, role):
    user, _ = created_by_admin(adam, "newbie", role, "4W")
    change = AccountChange.objects.get()
    assert (change.user, change.changed_by, change.kind, change.old_role, change.new_role) == (
        user,
        admin_user,
        "created",
        "",
        role,
    )
    event = audit("account_change_queued").get()
    assert (event.actor_id, event.object_id) == (admin_user.pk, str(change.pk))
    assert event.reason == f"user={user.pk} created role -->{role}"


def test_an_account_without_a_role_or_a_unit_change_queues_nothing(adam, clinician):
    created_by_admin(adam, "norole", "")
    adam.post(reverse("user_edit", args=[clinician.pk]), {"role": "clinician", "unit": "ICU"})
    assert not AccountChange.objects.exists()


def test_changing_a_role_queues_a_review_with_old_and_new_role(adam, admin_user, make_user):
    bob = make_user("bob", "", "")
    adam.post(reverse("user_edit", args=[bob.pk]), {"role": "nurse", "unit": "4W"})
    adam.post(reverse("user_edit", args=[bob.pk]), {"role": "privacy_officer", "unit": ""})
    changes = list(AccountChange.objects.values_list("kind", "old_role", "new_role", "changed_by"))
    assert changes == [
        ("role_changed", "", "nurse", admin_user.pk),
        ("role_changed", "nurse", "privacy_officer", admin_user.pk),
    ]


def test_a_privacy_officer_reviews_account_changes(adam, admin_user, privacy_officer):
    user, _ = created_by_admin(adam, "newdoc", "clinician", "4W")
    priya = login_verified(Client(), privacy_officer)
    page = priya.get(reverse("account_change_review_list")).content.decode()
    assert "newdoc" in page and "adam" in page and "Clinician" in page and "Account created" in page
    assert audit("audit_view").filter(object_id="account_changes").count() == 1
    change = AccountChange.objects.get()
    response = priya.post(reverse("account_change_review", args=[change.pk]), {"comment": "Asked for by 4W lead"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.reviewed_by == privacy_officer and change.reviewed_at is not None
    event = audit("account_change_review").get()
    assert (event.actor_id, event.object_id) == (privacy_officer.pk, str(change.pk))
    assert event.reason == f"user={user.pk} Asked for by 4W lead"
    assert "newdoc" not in priya.get(reverse("account_change_review_list")).content.decode()
    priya.post(reverse("account_change_review", args=[change.pk]), {"comment": "again"})
    assert audit("account_change_review").count() == 1


def test_a_privacy_officer_cannot_review_their_own_account_change(adam, make_user):
    make_user("pia", "privacy_officer")
    newpo, _ = created_by_admin(adam, "newpo", "privacy_officer")
    change = AccountChange.objects.get()
    newpo.must_change_password = False
    newpo.save()
    client = login_verified(Client(), newpo)
    client.post(reverse("account_change_review", args=[change.pk]), {"comment": "fine by me"})
    change.refresh_from_db()
    assert change.reviewed_at is None and not audit("account_change_review").exists()


def test_admins_cannot_see_or_clear_the_queue(adam):
    created_by_admin(adam, "newdoc", "clinician", "4W")
    change = AccountChange.objects.get()
    assert adam.get(reverse("account_change_review_list")).status_code == 403
    assert adam.post(reverse("account_change_review", args=[change.pk])).status_code == 403
    change.refresh_from_db()
    assert change.reviewed_at is None


# --- A forgotten password: the administrator sets a temporary one (user_password_reset) -----------


def test_an_admin_reset_forces_a_new_password_at_the_next_sign_in(adam, clinician):
    """Issue 17: "forced at first login and after an admin reset". The old password stops
    working, open sessions end, the temporary one leads only to the password page."""

    def sessions_of_clinician() -> int:
        return sum(s.get_decoded().get("_auth_user_id") == str(clinician.pk) for s in Session.objects.all())

    login_verified(Client(), clinician)
    assert sessions_of_clinician() == 1
    response = adam.post(
        reverse("user_password_reset", args=[clinician.pk]), {"password": TEMPORARY, "password_again": TEMPORARY}
    )
    assert response["Location"] == reverse("user_edit", args=[clinician.pk])
    clinician.refresh_from_db()
    assert clinician.must_change_password and clinician.check_password(TEMPORARY)
    assert sessions_of_clinician() == 0
    assert Client().post(reverse("login"), {"username": clinician.username, "password": PASSWORD}).status_code == 200
    event = audit("password_reset").get()
    assert (event.actor_id, event.object_id) == (User.objects.get(username="adam").pk, str(clinician.pk))
    assert TEMPORARY not in (event.reason or "")
    client = logged_in(clinician.username)
    assert client.get(reverse("patient_list"))["Location"].startswith(reverse("password_change"))


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"password": "short", "password_again": "short"}, "too short"),
        ({"password": TEMPORARY, "password_again": OWN}, "The two passwords differ."),
    ],
)
def test_an_admin_reset_is_refused_for_a_weak_or_mistyped_password(adam, clinician, fields, message):
    page = adam.post(reverse("user_password_reset", args=[clinician.pk]), fields, follow=True).content.decode()
    assert message in page
    clinician.refresh_from_db()
    assert clinician.check_password(PASSWORD) and not clinician.must_change_password


def test_a_directory_account_is_reset_in_the_directory(adam, clinician):
    clinician.set_unusable_password()
    clinician.save()
    page = adam.post(
        reverse("user_password_reset", args=[clinician.pk]),
        {"password": TEMPORARY, "password_again": TEMPORARY},
        follow=True,
    ).content.decode()
    assert "reset its password there" in page
    clinician.refresh_from_db()
    assert not clinician.has_usable_password() and not clinician.must_change_password
