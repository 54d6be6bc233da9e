"""LDAP sign-in against a real OpenLDAP slapd, through the login form.

slapd (Debian packages slapd + ldap-utils) is driven by the PyPI package `slapd` on 127.0.0.1
and a random port, loaded with tests/accounts/ldap/directory.ldif. In CI a missing slapd
fails these tests; elsewhere they are skipped with a message.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import ldap
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from clinsum.accounts.ldap_settings import ldap_settings
from clinsum.audit.models import AuditEvent

LDIF = Path(__file__).parent / "ldap" / "directory.ldif"
SUFFIX = "dc=example,dc=org"
GROUPS = f"ou=groups,{SUFFIX}"
DIRECTORY_DOWN = b"The directory server could not be reached; try again or contact the help desk"


def _slapd_binary() -> str | None:
    return shutil.which("slapd") or shutil.which("slapd", path="/usr/sbin:/usr/local/sbin")


@pytest.fixture
def directory():
    """A fresh slapd with the test directory, stopped after the test."""
    if _slapd_binary() is None or shutil.which("ldapadd") is None:
        message = "OpenLDAP slapd/ldap-utils not installed (apt-get install slapd ldap-utils)"
        if os.environ.get("CI"):
            pytest.fail(message + ": required in CI")
        pytest.skip(message)
    import slapd

    class Slapd(slapd.Slapd):
        # Its data and ldapi socket go in a short temporary path, not the working directory.
        TMPDIR = tempfile.mkdtemp(prefix="clinsum-slapd-")

    server = Slapd(schemas=("core.ldif", "cosine.ldif", "inetorgperson.ldif", "nis.ldif"), suffix=SUFFIX)
    try:
        server.start()
        server.ldapadd(LDIF.read_text())
        yield server
    finally:
        server.stop()
        shutil.rmtree(Slapd.TMPDIR, ignore_errors=True)


def directory_env(server, **overrides) -> dict[str, str]:
    env = {
        "LDAP_SERVER_URI": server.ldap_uri,
        "LDAP_BIND_DN": server.root_dn,
        "LDAP_BIND_PASSWORD": server.root_pw,
        "LDAP_USER_SEARCH_BASE": f"ou=people,{SUFFIX}",
        "LDAP_GROUP_SEARCH_BASE": GROUPS,
        "LDAP_GROUP_TYPE": "groupOfNames",
        "LDAP_ROLE_GROUPS": (
            f"clinician=cn=clinicians,{GROUPS};nurse=cn=nurses,{GROUPS};"
            f"admin=cn=admins,{GROUPS};privacy_officer=cn=privacy,{GROUPS}"
        ),
        "LDAP_UNIT_ATTR": "departmentNumber",
        "LDAP_DISABLED_FILTER": "(employeeType=disabled)",
        "LDAP_TIMEOUT_S": "3",
    }
    env.update(overrides)
    return env


def use_directory(settings, env: dict[str, str]) -> None:
    """What settings.py does when LDAP_SERVER_URI is set."""
    for name, value in ldap_settings(env).items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
        "clinsum.accounts.backends.DirectoryBackend",
    ]


@pytest.fixture
def ldap_login(settings, directory, db):
    use_directory(settings, directory_env(directory))
    return directory


@pytest.fixture
def ldap_calls(monkeypatch):
    """Counts connections opened and binds made by python-ldap in this test."""
    calls = {"initialize": 0, "bind": 0}
    real_initialize = ldap.initialize
    real_bind = ldap.ldapobject.SimpleLDAPObject.simple_bind_s

    def initialize(*args, **kwargs):
        calls["initialize"] += 1
        return real_initialize(*args, **kwargs)

    def simple_bind_s(self, *args, **kwargs):
        calls["bind"] += 1
        return real_bind(self, *args, **kwargs)

    monkeypatch.setattr(ldap, "initialize", initialize)
    monkeypatch.setattr(ldap.ldapobject.SimpleLDAPObject, "simple_bind_s", simple_bind_s)
    return calls


def login(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def axes_failures() -> int:
    from axes.models import AccessAttempt

    return sum(AccessAttempt.objects.values_list("failures_since_start", flat=True))


def modify(server, uid: str, change: str) -> None:
    server.ldapmodify(f"dn: uid={uid},ou=people,{SUFFIX}\nchangetype: modify\n{change}\n")


def set_groups(server, uid: str, *, remove: str | None = None, add: str | None = None) -> None:
    member = f"uid={uid},ou=people,{SUFFIX}"
    if remove:
        server.ldapmodify(f"dn: cn={remove},{GROUPS}\nchangetype: modify\ndelete: member\nmember: {member}\n")
    if add:
        server.ldapmodify(f"dn: cn={add},{GROUPS}\nchangetype: modify\nadd: member\nmember: {member}\n")


def test_it_logs_in_with_role_and_unit_from_the_directory(ldap_login, client):
    response = login(client, "dora", "dora-directory-pass")
    assert response.status_code == 302
    dora = get_user_model().objects.get(username="dora")
    assert (dora.role, dora.unit, dora.first_name, dora.is_active) == ("clinician", "4W", "Dora", True)
    assert not dora.has_usable_password()  # the password stays in the directory
    assert client.get(reverse("patient_list")).status_code == 200
    assert AuditEvent.objects.filter(action="login", actor_id=dora.pk).count() == 1


def test_a_wrong_password_is_refused_and_counted(ldap_login, client):
    response = login(client, "dora", "not-her-password")
    assert response.status_code == 200 and b"didn't match" in response.content
    assert axes_failures() == 1
    assert AuditEvent.objects.get(action="login_failed").outcome == "denied"


def test_an_unknown_user_is_refused(ldap_login, client):
    assert login(client, "mallory", "whatever-pass").status_code == 200
    assert not get_user_model().objects.filter(username="mallory").exists()


@pytest.mark.parametrize("password", ["", " ", "   \t "])
def test_empty_and_blank_passwords_are_refused_before_any_bind(ldap_login, client, ldap_calls, password):
    response = login(client, "dora", password)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert ldap_calls == {"initialize": 0, "bind": 0}


@pytest.mark.parametrize("password", ["", "  "])
def test_the_backend_itself_refuses_blank_passwords_without_connecting(ldap_login, rf, ldap_calls, password):
    from clinsum.accounts.backends import DirectoryBackend

    assert DirectoryBackend().authenticate(rf.post("/login/"), username="dora", password=password) is None
    assert ldap_calls == {"initialize": 0, "bind": 0}


def test_the_counter_sees_binds_of_a_real_login(ldap_login, client, ldap_calls):
    assert login(client, "dora", "dora-directory-pass").status_code == 302
    assert ldap_calls["initialize"] >= 1 and ldap_calls["bind"] >= 2  # service account, then dora


def test_a_disabled_account_is_refused_and_marked_inactive(ldap_login, client):
    response = login(client, "gone", "gone-directory-pass")
    assert response.status_code == 200 and b"didn't match" in response.content
    assert get_user_model().objects.get(username="gone").is_active is False
    # Enabled again in the directory: the next login works and the account is active again.
    modify(ldap_login, "gone", "delete: employeeType")
    assert login(client, "gone", "gone-directory-pass").status_code == 302
    assert get_user_model().objects.get(username="gone").is_active is True


def test_disabling_in_the_directory_ends_open_sessions_at_the_next_login(ldap_login, client, django_user_model):
    from django.test import Client

    assert login(client, "dora", "dora-directory-pass").status_code == 302
    modify(ldap_login, "dora", "add: employeeType\nemployeeType: disabled")
    assert login(Client(), "dora", "dora-directory-pass").status_code == 200
    assert django_user_model.objects.get(username="dora").is_active is False
    response = client.get(reverse("patient_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_group_change_changes_the_role_at_the_next_login(ldap_login, client, django_user_model):
    assert login(client, "dora", "dora-directory-pass").status_code == 302
    assert django_user_model.objects.get(username="dora").role == "clinician"
    client.post(reverse("logout"))

    set_groups(ldap_login, "dora", remove="clinicians", add="nurses")
    modify(ldap_login, "dora", "replace: departmentNumber\ndepartmentNumber: 5E")
    assert login(client, "dora", "dora-directory-pass").status_code == 302
    dora = django_user_model.objects.get(username="dora")
    assert (dora.role, dora.unit) == ("nurse", "5E")
    sync = AuditEvent.objects.filter(action="user_directory_sync", object_id=str(dora.pk)).order_by("seq").last()
    assert "role clinician->nurse" in sync.reason and "unit 4W->5E" in sync.reason
    assert (sync.actor_id, sync.ip) == (None, "127.0.0.1")  # the directory acted; the login's address


def test_a_user_in_no_role_group_gets_no_access(ldap_login, client, django_user_model):
    assert login(client, "nobody", "nobody-directory-pass").status_code == 302
    assert django_user_model.objects.get(username="nobody").role == ""
    assert client.get(reverse("home")).status_code == 403
    assert client.get(reverse("patient_list")).status_code == 403


def test_leaving_every_role_group_removes_the_role(ldap_login, client, django_user_model):
    assert login(client, "ned", "ned-directory-pass").status_code == 302
    assert django_user_model.objects.get(username="ned").role == "nurse"
    client.post(reverse("logout"))
    set_groups(ldap_login, "ned", remove="nurses")
    assert login(client, "ned", "ned-directory-pass").status_code == 302
    assert django_user_model.objects.get(username="ned").role == ""
    assert client.get(reverse("patient_list")).status_code == 403


def test_a_directory_admin_must_still_verify_a_totp_token(ldap_login, client):
    assert login(client, "ada", "ada-directory-pass").status_code == 302
    response = client.get(reverse("user_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_enrol"))


def test_a_local_account_is_never_checked_against_the_directory(ldap_login, client, make_user, ldap_calls):
    from tests.conftest import PASSWORD

    make_user("dora", "clinician", "ICU")  # a local account with the same name as a directory one
    assert login(client, "dora", "dora-directory-pass").status_code == 200
    assert ldap_calls["initialize"] == 0
    assert login(client, "dora", PASSWORD).status_code == 302


def test_start_tls_with_the_hospital_ca(settings, directory, db, client):
    use_directory(settings, directory_env(directory, LDAP_START_TLS="true", LDAP_CA_CERT_FILE=directory.cafile))
    assert login(client, "dora", "dora-directory-pass").status_code == 302


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_directory_says_so_and_is_not_a_failed_login(settings, db, client, directory):
    use_directory(settings, directory_env(directory, LDAP_SERVER_URI=f"ldap://127.0.0.1:{_closed_port()}"))
    response = login(client, "dora", "dora-directory-pass")
    assert response.status_code == 200 and DIRECTORY_DOWN in response.content
    assert axes_failures() == 0
    event = AuditEvent.objects.get(action="login_failed")
    assert (event.outcome, event.reason) == ("error", "directory unreachable")


def test_a_directory_that_goes_away_cannot_lock_anyone_out(settings, db, client, directory):
    use_directory(settings, directory_env(directory))
    directory.stop()
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        response = login(client, "dora", "dora-directory-pass")
        assert response.status_code == 200 and DIRECTORY_DOWN in response.content
    assert axes_failures() == 0
    directory.start()  # same address, fresh data
    directory.ldapadd(LDIF.read_text())
    assert login(client, "dora", "dora-directory-pass").status_code == 302
