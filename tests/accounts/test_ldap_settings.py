"""LDAP configuration from environment variables (no server needed)."""

import ldap
import pytest
from django.core.exceptions import ImproperlyConfigured

from clinsum.accounts.backends import directory_account_disabled, directory_role
from clinsum.accounts.ldap_settings import AD_DISABLED_FILTER, ROLE_NAMES, ldap_settings, role_groups_parse
from clinsum.accounts.models import Role

BASE = {
    "LDAP_SERVER_URI": "ldap://dc1.hospital.local",
    "LDAP_USER_SEARCH_BASE": "ou=people,dc=hospital,dc=local",
    "LDAP_GROUP_SEARCH_BASE": "ou=groups,dc=hospital,dc=local",
    "LDAP_ROLE_GROUPS": (
        "clinician=CN=Clinicians, OU=Groups,DC=hospital,DC=local;nurse=cn=nurses,ou=groups,dc=hospital,dc=local"
    ),
}


def test_role_names_match_the_user_model():
    assert set(ROLE_NAMES) == set(Role.values)


def test_it_builds_settings_with_defaults():
    conf = ldap_settings(BASE)
    assert conf["AUTH_LDAP_SERVER_URI"] == "ldap://dc1.hospital.local"
    assert conf["AUTH_LDAP_START_TLS"] is False
    assert conf["AUTH_LDAP_USER_SEARCH"].filterstr == "(uid=%(user)s)"
    assert conf["CLINSUM_LDAP_ROLE_GROUPS"] == {
        "clinician": "cn=clinicians,ou=groups,dc=hospital,dc=local",
        "nurse": "cn=nurses,ou=groups,dc=hospital,dc=local",
    }
    assert conf["CLINSUM_LDAP_UNIT_ATTR"] == "departmentNumber"
    assert conf["CLINSUM_LDAP_DISABLED_FILTER"] == ""
    assert conf["AUTH_LDAP_CONNECTION_OPTIONS"][ldap.OPT_NETWORK_TIMEOUT] == 5


def test_active_directory_defaults():
    conf = ldap_settings({**BASE, "LDAP_GROUP_TYPE": "activeDirectory"})
    assert conf["AUTH_LDAP_USER_SEARCH"].filterstr == "(sAMAccountName=%(user)s)"
    assert conf["CLINSUM_LDAP_DISABLED_FILTER"] == AD_DISABLED_FILTER
    assert conf["AUTH_LDAP_CONNECTION_OPTIONS"][ldap.OPT_REFERRALS] == 0


def test_ldaps_demands_a_valid_certificate(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    options = ldap_settings({**BASE, "LDAP_SERVER_URI": "ldaps://dc1:636", "LDAP_CA_CERT_FILE": str(ca)})[
        "AUTH_LDAP_CONNECTION_OPTIONS"
    ]
    assert options[ldap.OPT_X_TLS_REQUIRE_CERT] == ldap.OPT_X_TLS_DEMAND
    assert options[ldap.OPT_X_TLS_CACERTFILE] == str(ca)
    assert list(options)[-1] == ldap.OPT_X_TLS_NEWCTX


@pytest.mark.parametrize(
    "overrides",
    [
        {"LDAP_SERVER_URI": "http://dc1"},
        {"LDAP_SERVER_URI": "ldaps://dc1", "LDAP_START_TLS": "true"},
        {"LDAP_START_TLS": "maybe"},
        {"LDAP_USER_SEARCH_BASE": ""},
        {"LDAP_GROUP_TYPE": "nested"},
        {"LDAP_USER_FILTER": "(uid=fixed)"},
        {"LDAP_ROLE_GROUPS": "surgeon=cn=surgeons,dc=x"},
        {"LDAP_ROLE_GROUPS": "nurse"},
        {"LDAP_ROLE_GROUPS": ""},
        {"LDAP_CA_CERT_FILE": "/nonexistent/ca.pem", "LDAP_START_TLS": "true"},
        {"LDAP_TIMEOUT_S": "soon"},
        {"LDAP_DISABLED_FILTER": "employeeType=disabled"},
    ],
)
def test_bad_values_fail_loudly(overrides):
    with pytest.raises(ImproperlyConfigured):
        ldap_settings({**BASE, **overrides})


def test_role_groups_keep_their_order():
    assert list(role_groups_parse("admin=cn=a,dc=x; clinician=cn=c,dc=x")) == ["admin", "clinician"]


class FakeDirectoryUser:
    def __init__(self, group_dns=(), attrs=None):
        self.group_dns = set(group_dns)
        self.attrs = attrs or {}


def test_the_first_listed_role_group_wins(settings):
    settings.CLINSUM_LDAP_ROLE_GROUPS = role_groups_parse("nurse=cn=n,dc=x;clinician=cn=c,dc=x")
    assert directory_role(FakeDirectoryUser(["CN=C,DC=X", "cn=n, dc=x"])) == "nurse"
    assert directory_role(FakeDirectoryUser(["cn=c,dc=x"])) == "clinician"
    assert directory_role(FakeDirectoryUser(["cn=other,dc=x"])) == ""


def test_the_ad_account_disabled_bit_marks_an_account_disabled(settings):
    settings.CLINSUM_LDAP_DISABLED_FILTER = ""
    assert directory_account_disabled(FakeDirectoryUser(attrs={"userAccountControl": ["514"]}))  # 512 + 2
    assert not directory_account_disabled(FakeDirectoryUser(attrs={"useraccountcontrol": ["512"]}))
