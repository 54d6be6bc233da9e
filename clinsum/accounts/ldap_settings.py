"""LDAP / Active Directory settings for django-auth-ldap, built from environment variables.

Imported by settings.py (so nothing here touches models). Enabled only when LDAP_SERVER_URI
is set. Variables:

  LDAP_SERVER_URI          ldap://host:389 or ldaps://host:636 (LDAPS)
  LDAP_START_TLS           true/false: StartTLS on an ldap:// URI (not with ldaps://)
  LDAP_CA_CERT_FILE        PEM file of the CA that signed the directory's certificate
  LDAP_BIND_DN             service account used to search (empty: anonymous search)
  LDAP_BIND_PASSWORD
  LDAP_USER_SEARCH_BASE    e.g. ou=people,dc=example,dc=org (required)
  LDAP_USER_FILTER         default (uid=%(user)s); with LDAP_GROUP_TYPE=activeDirectory
                           (sAMAccountName=%(user)s)
  LDAP_GROUP_SEARCH_BASE   e.g. ou=groups,dc=example,dc=org (required)
  LDAP_GROUP_TYPE          groupOfNames (default) | posixGroup | activeDirectory
  LDAP_ROLE_GROUPS         role=group DN pairs separated by ';', e.g.
                           clinician=cn=clinicians,ou=groups,dc=example,dc=org;nurse=cn=nurses,...
                           Roles: clinician, nurse, admin, privacy_officer. A user in none of
                           the groups gets no role (no access); in several, the first listed wins.
  LDAP_UNIT_ATTR           attribute holding the ward code (default departmentNumber)
  LDAP_DISABLED_FILTER     an LDAP filter that matches disabled accounts, e.g.
                           (employeeType=disabled); for AD the default is the
                           userAccountControl ACCOUNTDISABLE bit (which is also always honoured)
  LDAP_TIMEOUT_S           connect and operation timeout (default 5)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# The values of accounts.models.Role (models cannot be imported while settings load).
ROLE_NAMES = ("clinician", "nurse", "admin", "privacy_officer")
GROUP_TYPES = ("groupOfNames", "posixGroup", "activeDirectory")
AD_DISABLED_FILTER = "(userAccountControl:1.2.840.113556.1.4.803:=2)"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _bool(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if value not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"{name} must be true or false; got {value!r}")
    return value in _TRUE


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when LDAP_SERVER_URI is set")
    return value


def role_groups_parse(text: str) -> dict[str, str]:
    """'clinician=cn=a,dc=x;nurse=cn=b,dc=x' -> {'clinician': 'cn=a,dc=x', ...} (order kept,
    DNs lower-cased for comparison)."""
    mapping: dict[str, str] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        role, sep, dn = part.partition("=")
        role, dn = role.strip(), dn.strip()
        if not sep or not dn:
            raise ImproperlyConfigured(f"LDAP_ROLE_GROUPS entry {part!r} is not role=group DN")
        if role not in ROLE_NAMES:
            raise ImproperlyConfigured(f"LDAP_ROLE_GROUPS: unknown role {role!r} (one of {', '.join(ROLE_NAMES)})")
        if role in mapping:
            raise ImproperlyConfigured(f"LDAP_ROLE_GROUPS: role {role!r} given twice")
        mapping[role] = dn_normalise(dn)
    if not mapping:
        raise ImproperlyConfigured("LDAP_ROLE_GROUPS must map at least one role to a group DN")
    return mapping


def dn_normalise(dn: str) -> str:
    """Lower case, no blanks around separators: how group DNs are compared."""
    import ldap.dn

    try:
        return ldap.dn.dn2str(ldap.dn.str2dn(dn.strip())).lower()
    except ldap.DECODING_ERROR as exc:
        raise ImproperlyConfigured(f"not a valid DN: {dn!r}") from exc


def ldap_settings(environ: Mapping[str, str]) -> dict:
    """The AUTH_LDAP_* (django-auth-ldap) and CLINSUM_LDAP_* settings for this environment."""
    import ldap
    from django_auth_ldap.config import ActiveDirectoryGroupType, GroupOfNamesType, LDAPSearch, PosixGroupType

    uri = _required(environ, "LDAP_SERVER_URI")
    if not uri.lower().startswith(("ldap://", "ldaps://")):
        raise ImproperlyConfigured("LDAP_SERVER_URI must start with ldap:// or ldaps://")
    start_tls = _bool(environ, "LDAP_START_TLS")
    if start_tls and uri.lower().startswith("ldaps://"):
        raise ImproperlyConfigured("LDAP_START_TLS is for ldap:// URIs; ldaps:// is already TLS")
    user_base = _required(environ, "LDAP_USER_SEARCH_BASE")
    group_base = _required(environ, "LDAP_GROUP_SEARCH_BASE")
    group_type = environ.get("LDAP_GROUP_TYPE", "").strip() or "groupOfNames"
    if group_type not in GROUP_TYPES:
        raise ImproperlyConfigured(f"LDAP_GROUP_TYPE must be one of {', '.join(GROUP_TYPES)}; got {group_type!r}")
    active_directory = group_type == "activeDirectory"
    user_filter = environ.get("LDAP_USER_FILTER", "").strip() or (
        "(sAMAccountName=%(user)s)" if active_directory else "(uid=%(user)s)"
    )
    if "%(user)s" not in user_filter:
        raise ImproperlyConfigured("LDAP_USER_FILTER must contain %(user)s")
    try:
        timeout = int(environ.get("LDAP_TIMEOUT_S", "") or 5)
    except ValueError as exc:
        raise ImproperlyConfigured("LDAP_TIMEOUT_S must be an integer") from exc
    if timeout <= 0:
        raise ImproperlyConfigured("LDAP_TIMEOUT_S must be > 0")

    options: dict = {
        ldap.OPT_REFERRALS: 0,  # AD answers with referrals that python-ldap would chase anonymously
        ldap.OPT_NETWORK_TIMEOUT: timeout,
        ldap.OPT_TIMEOUT: timeout,
    }
    if start_tls or uri.lower().startswith("ldaps://"):
        ca_file = environ.get("LDAP_CA_CERT_FILE", "").strip()
        if ca_file:
            if not Path(ca_file).is_file():
                raise ImproperlyConfigured(f"LDAP_CA_CERT_FILE {ca_file!r} does not exist")
            options[ldap.OPT_X_TLS_CACERTFILE] = ca_file
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        options[ldap.OPT_X_TLS_NEWCTX] = 0  # must come last: applies the TLS options above

    group_classes = {
        "groupOfNames": (GroupOfNamesType(), "(objectClass=groupOfNames)"),
        "posixGroup": (PosixGroupType(), "(objectClass=posixGroup)"),
        "activeDirectory": (ActiveDirectoryGroupType(), "(objectClass=group)"),
    }
    group_type_obj, group_filter = group_classes[group_type]
    disabled_filter = environ.get("LDAP_DISABLED_FILTER", "").strip()
    if not disabled_filter and active_directory:
        disabled_filter = AD_DISABLED_FILTER
    if disabled_filter and not (disabled_filter.startswith("(") and disabled_filter.endswith(")")):
        raise ImproperlyConfigured("LDAP_DISABLED_FILTER must be an LDAP filter in parentheses")

    return {
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_START_TLS": start_tls,
        "AUTH_LDAP_BIND_DN": environ.get("LDAP_BIND_DN", "").strip(),
        "AUTH_LDAP_BIND_PASSWORD": environ.get("LDAP_BIND_PASSWORD", ""),
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(user_base, ldap.SCOPE_SUBTREE, user_filter),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(group_base, ldap.SCOPE_SUBTREE, group_filter),
        "AUTH_LDAP_GROUP_TYPE": group_type_obj,
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,  # role, unit and status follow the directory at each login
        "AUTH_LDAP_PERMIT_EMPTY_PASSWORD": False,
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "CLINSUM_LDAP_ROLE_GROUPS": role_groups_parse(_required(environ, "LDAP_ROLE_GROUPS")),
        "CLINSUM_LDAP_UNIT_ATTR": environ.get("LDAP_UNIT_ATTR", "").strip() or "departmentNumber",
        "CLINSUM_LDAP_DISABLED_FILTER": disabled_filter,
    }
