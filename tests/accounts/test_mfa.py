"""TOTP for administrators and privacy officers: enrolment with a server-drawn QR code, a token
at every login, and no page before it."""

from django.test import Client
from django.urls import reverse

from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import enrolment_unlock, totp_device, totp_now

from .conftest import password_login


def test_an_admin_without_a_device_is_sent_to_enrolment(admin_user, client):
    password_login(client, "adam")
    response = client.get(reverse("user_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_enrol") + "?next=/users/"


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


def test_the_mfa_pages_need_a_login(client):
    assert client.get(reverse("mfa_verify"))["Location"].startswith(reverse("login"))
    assert client.get(reverse("mfa_enrol"))["Location"].startswith(reverse("login"))
