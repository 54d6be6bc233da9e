"""django-axes lockout through the real login form: per username + address, audited. The
administrator's unlock is in test_views.py."""

from clinsum.audit.models import AuditEvent
from tests.conftest import PASSWORD

from .conftest import fail_until_locked, login


def test_settings_use_the_database_handler_and_combined_lockout(settings):
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_FAILURE_LIMIT == 5


def test_it_locks_out_after_the_failure_limit_even_with_the_right_password(clinician, client, settings):
    fail_until_locked(client, settings)
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 429 and b"Login locked" in response.content
    assert "_auth_user_id" not in client.session
    events = AuditEvent.objects.filter(action="lockout")
    assert events.exists() and events.first().object_id == "alice"


def test_fewer_failures_than_the_limit_do_not_lock(clinician, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "alice", "wrong-password")
    assert login(client, "alice", PASSWORD).status_code == 302


def test_changing_the_case_of_the_username_does_not_reset_the_count(clinician, client, settings):
    for name in ["alice", "Alice", "ALICE ", "aLiCe", "alicE"][: settings.AXES_FAILURE_LIMIT]:
        login(client, name, "wrong-password")
    assert login(client, "alice", PASSWORD).status_code == 429


def test_the_lockout_is_per_address_so_one_user_cannot_lock_out_another_machine(clinician, client, settings):
    fail_until_locked(client, settings, REMOTE_ADDR="10.0.0.66")
    assert login(client, "alice", PASSWORD, REMOTE_ADDR="10.0.0.66").status_code == 429
    assert login(client, "alice", PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 302


def test_a_spoofed_forwarded_for_header_does_not_dodge_the_lockout(clinician, client, settings):
    settings.CLINSUM_TRUSTED_PROXIES = 0
    for i in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alice", "wrong-password", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    assert login(client, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429


def test_behind_one_trusted_proxy_the_forwarded_address_counts(clinician, client, settings):
    settings.CLINSUM_TRUSTED_PROXIES = 1
    fail_until_locked(client, settings, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="10.0.0.66")
    assert login(client, "alice", PASSWORD, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="10.0.0.66").status_code == 429
    # Another workstation behind the same nginx is not locked out.
    assert login(client, "alice", PASSWORD, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="10.0.0.7").status_code == 302
