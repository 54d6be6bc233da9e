"""The two-step gate (accounts/middleware.py): administrators and privacy officers reach no page and
change nothing until their session has verified a TOTP token; clinicians and nurses need none. The
enrolment and verification pages themselves are in test_views.py."""

from django.urls import reverse

from .conftest import password_login


def test_an_admin_without_a_device_is_sent_to_enrolment(admin_user, client):
    password_login(client, "adam")
    response = client.get(reverse("user_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_enrol") + "?next=/users/"


def test_privacy_officers_need_a_code_too(privacy_officer, client):
    password_login(client, "priya")
    response = client.get(reverse("audit_event_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_enrol"))
    assert client.get(reverse("break_glass_review_list")).status_code == 302


def test_an_unverified_admin_changes_nothing(admin_user, clinician, adam_with_phone, client):
    password_login(client, "adam")
    response = client.post(reverse("user_deactivate", args=[clinician.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_verify"))
    clinician.refresh_from_db()
    assert clinician.is_active


def test_an_unverified_admin_polling_gets_a_full_page_redirect(admin_user, adam_with_phone, client):
    password_login(client, "adam")
    response = client.get(reverse("user_list"), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith(reverse("mfa_verify"))


def test_clinicians_and_nurses_need_no_code(clinician, nurse, ward, client):
    for username in ("alice", "nina"):
        password_login(client, username)
        assert client.get(reverse("patient_list")).status_code == 200
        client.post(reverse("logout"))
