"""LDAP / Active Directory sign-in (django-auth-ldap), with ClinSum's rules on top:

- an empty or blank password is refused before any connection is opened (an LDAP bind with a
  DN and no password is an "unauthenticated bind", which many servers, AD among them, answer
  with success);
- local accounts (with a ClinSum password) are never checked against the directory;
- role, unit and active status are taken from the directory at every login;
- an unreachable directory raises DirectoryUnavailable instead of failing the login, so the
  login page can say so and django-axes does not count it as a failed attempt.
"""

from __future__ import annotations

import logging

import ldap
from django.conf import settings
from django_auth_ldap.backend import LDAPBackend, ldap_error

from .errors import DirectoryUnavailable
from .ldap_settings import dn_normalise

log = logging.getLogger(__name__)

UNREACHABLE = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR, ldap.UNAVAILABLE)


def _attr(attrs, name: str) -> list:
    """Attribute values by case-insensitive name (AD and OpenLDAP spell names differently)."""
    if not attrs or not name:
        return []
    wanted = name.lower()
    for key, values in attrs.items():
        if key.lower() == wanted:
            return list(values)
    return []


class DirectoryBackend(LDAPBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not str(username).strip():
            return None
        if password is None or not str(password).strip():
            return None  # before any bind: see the module docstring
        from .models import User

        local = User.objects.filter(username__iexact=str(username).strip()).first()
        if local is not None and local.is_local_account():
            return None  # ModelBackend decides for local accounts, outage or not
        return super().authenticate(request, username=username, password=password, **kwargs)

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is None:
            return None
        from .services import user_sync_from_directory

        try:
            role = directory_role(ldap_user)
            unit = (_attr(ldap_user.attrs, settings.CLINSUM_LDAP_UNIT_ATTR) or [""])[0]
            active = not directory_account_disabled(ldap_user)
        except UNREACHABLE as exc:
            raise DirectoryUnavailable() from exc
        except ldap.LDAPError as exc:
            log.warning("LDAP error reading groups or status of user id %s: %s", user.pk, type(exc).__name__)
            return None
        user = user_sync_from_directory(user=user, role=role, unit=str(unit)[:64], active=active)
        return user if user.is_active else None

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


def directory_role(ldap_user) -> str:
    """The first role (in LDAP_ROLE_GROUPS order) whose group the user is in, or ''."""
    member_of = {dn_normalise(dn) for dn in ldap_user.group_dns}
    for role, group_dn in settings.CLINSUM_LDAP_ROLE_GROUPS.items():
        if group_dn in member_of:
            return role
    return ""


def directory_account_disabled(ldap_user) -> bool:
    for value in _attr(ldap_user.attrs, "userAccountControl"):
        try:
            if int(value) & 2:  # AD ACCOUNTDISABLE
                return True
        except (TypeError, ValueError):
            pass
    disabled_filter = settings.CLINSUM_LDAP_DISABLED_FILTER
    if not disabled_filter:
        return False
    found = ldap_user.connection.search_s(ldap_user.dn, ldap.SCOPE_BASE, disabled_filter, ["1.1"])
    return any(dn for dn, _attrs in found)


def _directory_error(sender, context=None, exception=None, **kwargs):
    # django-auth-ldap logs LDAP errors and reports the login as failed; it propagates what a
    # receiver of its ldap_error signal raises. An outage is not a failed login.
    if isinstance(sender, type) and issubclass(sender, DirectoryBackend) and isinstance(exception, UNREACHABLE):
        raise DirectoryUnavailable() from exception


ldap_error.connect(_directory_error, dispatch_uid="clinsum.accounts.backends.directory_error")
