"""Separation of duties (issue 14, findings 3 and 11), the rules that span pages: no page an
administrator may open shows a patient's identity; a password an administrator chose is changed at
the first login, before anything else; the first administrator's enrolment code comes from the
command line. The review queue, the password page and the enrolment codes themselves are tested in
test_views.py."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

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


# --- 2. A password an administrator chose is changed at the first login ----------------------


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


# --- 3. The first administrator's enrolment code comes from the command line -----------------


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
