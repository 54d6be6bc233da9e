"""Separation of duties (issue 14, findings 3 and 11): administrators see no patient identity; a
role granted by an administrator waits in the privacy officers' review queue; a password an
administrator chose is changed at the first login; setting up an authenticator needs a one-time
code an administrator gives out of band, never the password alone."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinsum.accounts.models import AccountChange, MFAEnrolmentCode
from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import login_verified, totp_device, totp_now
from tests.conftest import PASSWORD

from .conftest import OWN, TEMPORARY, audit, created_by_admin, logged_in

# --- 1. Administrators see no patient identity ---------------------------------------------------

IDENTITY = ("Zebulon", "Quennell", "MRN-SOD-77", "1951-07-23", "23/07/1951", "July 23, 1951", "Jul. 23, 1951")


def admin_pages():
    """Every GET page the access matrix lets an administrator open."""
    from tests.test_access_matrix import BY_NAME, EXPECTED, OK

    return sorted(
        name
        for name, row in EXPECTED.items()
        if row["method"] == "GET" and OK in (row["admin"] if BY_NAME[name] else (row["admin"],))
    )


def test_the_admin_page_list_is_the_admin_console():
    assert {"user_list", "user_edit", "care_team_search", "care_team_detail", "retention_hold_list"} <= set(
        admin_pages()
    )


def test_no_admin_page_shows_a_patients_name_mrn_or_birth_date(adam, identified_patient, clinician):
    from clinsum.retention.models import RetentionPolicy
    from tests.test_access_matrix import BY_NAME

    ids = {"user_id": clinician.pk, "patient_id": identified_patient.pk, "policy_id": RetentionPolicy.objects.get().pk}
    urls = []
    for name in admin_pages():
        unknown = [k for k in BY_NAME[name] if k not in ids]
        assert not unknown, f"{name}: give this test an object for {unknown}"
        urls.append(reverse(name, kwargs={k: ids[k] for k in BY_NAME[name]}))
    urls += [reverse("care_team_search") + "?unit=4W", reverse("care_team_search") + "?patient=999999"]
    shown = []
    for url in urls:
        response = adam.get(url, follow=True)
        assert response.status_code == 200, url
        body = response.content.decode()
        shown += [(url, marker) for marker in IDENTITY if marker in body]
    # Pages a POST renders: a refused legal hold, a failed user creation.
    for url, data in [
        (reverse("retention_hold_place"), {"mrn": "NOPE", "reason": ""}),
        (reverse("user_create"), {"username": "x", "password": "short", "password_again": "short"}),
    ]:
        body = adam.post(url, data).content.decode()
        shown += [(url, marker) for marker in IDENTITY if marker in body]
    assert not shown, f"patient identity on admin pages: {shown}"


def test_the_unit_list_gives_patient_ids_and_care_team_sizes(adam, identified_patient, ward):
    body = adam.get(reverse("care_team_search"), {"unit": "4W"}).content.decode()
    assert reverse("care_team_detail", args=[identified_patient.pk]) in body
    assert reverse("care_team_detail", args=[ward["p1"].pk]) in body
    assert reverse("care_team_detail", args=[ward["icu"].pk]) not in body
    assert audit("care_team_list").get().object_id == "4W"


def test_care_teams_cannot_be_searched_by_mrn(adam, identified_patient):
    response = adam.get(reverse("care_team_search"), {"mrn": "MRN-SOD-77"})
    assert response.status_code == 200
    assert reverse("care_team_detail", args=[identified_patient.pk]) not in response.content.decode()
    assert adam.post(reverse("care_team_search"), {"mrn": "MRN-SOD-77"}).status_code == 405


def test_the_chart_banner_shows_the_id_a_ward_gives_the_admin(identified_patient, clinician):
    body = login_verified(Client(), clinician).get(reverse("chart_detail", args=[identified_patient.pk]))
    assert f"<dt>ClinSum id</dt><dd>{identified_patient.pk}</dd>" in body.content.decode()


# --- 2. Role grants wait for a privacy officer's review -----------------------------------------


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


# --- 3. A password an administrator chose is changed at the first login ----------------------


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


def test_a_password_change_ends_the_users_other_sessions(clinician):
    other = logged_in("alice", PASSWORD)
    client = logged_in("alice", PASSWORD)
    client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": OWN, "new_password2": OWN})
    assert client.get(reverse("patient_list")).status_code == 200
    assert other.get(reverse("patient_list"))["Location"].startswith(reverse("login"))
    assert audit("password_change").get().reason == ""


def test_users_the_tests_and_demo_create_directly_are_not_forced(clinician):
    client = logged_in("alice", PASSWORD)
    assert client.get(reverse("patient_list")).status_code == 200


def test_directory_accounts_are_never_forced_and_have_no_password_page(db, make_user):
    dora = make_user("dora", "clinician", "4W")
    dora.set_unusable_password()
    dora.must_change_password = True
    dora.save()
    client = Client()
    client.force_login(dora)
    assert client.get(reverse("patient_list")).status_code == 200
    assert client.get(reverse("password_change")).status_code == 403


def test_password_change_comes_before_mfa_enrolment(adam, make_user):
    make_user("pia", "privacy_officer")
    created_by_admin(adam, "newpo", "privacy_officer")
    client = logged_in("newpo")
    assert client.get(reverse("audit_event_list"))["Location"].startswith(reverse("password_change"))
    assert client.get(reverse("mfa_enrol"))["Location"].startswith(reverse("password_change"))
    response = client.post(
        reverse("password_change") + "?next=/audit/",
        {"old_password": TEMPORARY, "new_password1": OWN, "new_password2": OWN, "next": "/audit/"},
    )
    assert response["Location"] == "/audit/"
    assert client.get("/audit/")["Location"].startswith(reverse("mfa_enrol"))


def test_an_mfa_user_not_forced_changes_the_password_only_after_mfa(privacy_officer):
    client = logged_in("priya", PASSWORD)
    assert client.get(reverse("password_change"))["Location"].startswith(reverse("mfa_enrol"))


# --- 4. Enrolment needs a one-time code from an administrator --------------------------------

SECRET_MARKERS = ("Key for manual entry", "<svg")


def reset_code(adam, user) -> str:
    response = adam.post(reverse("user_mfa_reset", args=[user.pk]))
    assert response.status_code == 200
    return response.context["code"]


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


def test_the_command_line_issues_a_code_for_the_first_admin(db, make_user):
    root = make_user("root", "admin")
    out = StringIO()
    call_command("mfa_enrolment_code", "root", stdout=out)
    code = out.getvalue().split(": ", 1)[1].split()[0]
    client = logged_in("root", PASSWORD)
    assert client.post(reverse("mfa_enrol"), {"code": code}).status_code == 302
    event = audit("mfa_code_issue").get()
    assert event.actor_id is None and event.object_id == str(root.pk) and "command line" in event.reason
    make_user("cleo", "clinician")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="does not use two-step"):
        call_command("mfa_enrolment_code", "cleo", stdout=StringIO())
