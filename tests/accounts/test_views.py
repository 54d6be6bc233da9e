from django.urls import reverse

from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import login_verified
from tests.conftest import PASSWORD


def test_it_logs_in_rotates_the_session_and_audits(clinician, client):
    client.get(reverse("login"))
    before = client.cookies.get("sessionid")
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != (before.value if before else None)
    assert AuditEvent.objects.filter(action="login", actor_id=clinician.pk).count() == 1


def test_a_wrong_password_is_refused_and_audited(clinician, client):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200 and b"didn't match" in response.content
    event = AuditEvent.objects.get(action="login_failed")
    assert (event.outcome, event.object_id, event.actor_id) == ("denied", "alice", None)


def test_home_routes_each_role_to_its_page(clinician, admin_user, privacy_officer, client):
    for user, target in ((clinician, "patient_list"), (admin_user, "user_list"), (privacy_officer, "audit_event_list")):
        login_verified(client, user)
        assert client.get(reverse("home"))["Location"] == reverse(target)


def test_only_admins_see_the_user_list(clinician, admin_user, client):
    client.force_login(clinician)
    assert client.get(reverse("user_list")).status_code == 403
    login_verified(client, admin_user)
    response = client.get(reverse("user_list"))
    assert response.status_code == 200 and b"alice" in response.content


def test_logout_needs_post(clinician, client):
    client.force_login(clinician)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
