"""Session policy applied to every request, in one place:

- a deactivated user's session ends at once;
- idle logoff: a session unused for SESSION_COOKIE_AGE seconds (SESSION_IDLE_TIMEOUT_S) ends.
  Activity is tracked in the session; background polling (htmx `every` triggers) is not
  activity, so a chart left open with a summary polling still logs out;
- a password an administrator chose (a new local account) is changed before any other page;
- MFA: administrators and privacy officers reach no page until their session has verified a
  TOTP token (enrolment first if they have no device). The forced password change comes
  before MFA: the new password is the user's own before they set up their authenticator.
"""

from __future__ import annotations

import time
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_htmx.http import HttpResponseClientRedirect

from clinsum.audit.services import audit_record

LAST_ACTIVITY_KEY = "clinsum_last_activity"
KEEPALIVE_SLACK_S = 30  # the warning shows IDLE_WARNING_S before logoff; clocks and timers drift


# Pages that htmx refreshes by itself while a job runs. The server decides what is a poll, by
# the URL, never by a header the client sends or leaves out.
POLLED_URL_NAMES = frozenset({"summary_detail", "draft_detail"})


def _url_name(request) -> str:
    try:
        return resolve(request.path_info).url_name or ""
    except Resolver404:
        return ""


# Load balancer and compose probes: answered with no user and no session, so a session cookie
# sent along cannot make /healthz depend on the database (issue 16).
PROBE_URL_NAMES = frozenset({"healthz", "readyz"})


def is_probe(request) -> bool:
    cached = getattr(request, "_clinsum_is_probe", None)
    if cached is None:
        cached = request._clinsum_is_probe = _url_name(request) in PROBE_URL_NAMES
    return cached


def request_is_polling(request) -> bool:
    """A background refresh rather than a person's action: an htmx GET of a polled panel."""
    return (
        request.method == "GET"
        and request.headers.get("HX-Request") == "true"
        and _url_name(request) in POLLED_URL_NAMES
    )


def request_extends_session(request, *, idle_s: int) -> bool:
    """Polls never extend a session; "stay logged in" only while the idle warning is showing
    (a script posting it every minute does not keep a session alive)."""
    if request_is_polling(request):
        return False
    if _url_name(request) == "session_keepalive":
        return idle_s >= settings.SESSION_COOKIE_AGE - settings.IDLE_WARNING_S - KEEPALIVE_SLACK_S
    return True


def session_touch(request) -> None:
    request.session[LAST_ACTIVITY_KEY] = int(time.time())


def _to_page(request, url: str):
    if request.headers.get("HX-Request") == "true":
        return HttpResponseClientRedirect(url)  # the whole page navigates, not the panel
    return redirect(url)


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_probe(request):
            return self.get_response(request)
        user = request.user
        if user.is_authenticated:
            if not user.is_active:
                logout(request)
                return _to_page(request, reverse(settings.LOGIN_URL))
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - int(last) > settings.SESSION_COOKIE_AGE:
                audit_record(
                    action="logout_idle",
                    request=request,
                    actor=user,
                    object_type="session",
                    reason=f"idle {now - int(last)} s",
                )
                logout(request)
                return _to_page(request, reverse(settings.LOGIN_URL) + "?idle=1")
            if last is None or request_extends_session(request, idle_s=now - int(last)):
                session_touch(request)
        return self.get_response(request)


def _resolved_name(request) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


PASSWORD_CHANGE_EXEMPT_URL_NAMES = frozenset({"password_change", "logout", "login", "session_keepalive"})


class PasswordChangeRequiredMiddleware:
    """A local account whose password an administrator chose must change it before anything else
    (the administrator never knows a password the user keeps). Directory accounts have no
    ClinSum password and are never asked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_probe(request):
            return self.get_response(request)
        user = request.user
        if (
            user.is_authenticated
            and user.must_change_password
            and user.is_local_account()
            and _resolved_name(request) not in PASSWORD_CHANGE_EXEMPT_URL_NAMES
        ):
            return _to_page(request, f"{reverse('password_change')}?next={quote(request.get_full_path())}")
        return self.get_response(request)


MFA_EXEMPT_URL_NAMES = frozenset({"mfa_verify", "mfa_enrol", "logout", "login", "session_keepalive"})


class MFARequiredMiddleware:
    """Runs after django_otp's OTPMiddleware (which tells whether this session is verified)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_probe(request):
            return self.get_response(request)
        user = request.user
        if user.is_authenticated and user.needs_mfa() and not _is_verified(user):
            name = _resolved_name(request)
            forced_change = name == "password_change" and user.must_change_password
            if name not in MFA_EXEMPT_URL_NAMES and not forced_change:
                from django_otp import devices_for_user

                target = "mfa_verify" if any(devices_for_user(user, confirmed=True)) else "mfa_enrol"
                return _to_page(request, f"{reverse(target)}?next={quote(request.get_full_path())}")
        return self.get_response(request)


def _is_verified(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


class NoStoreMiddleware:
    """Pages shown to a signed-in user carry patient data or account data: no browser, proxy or
    shared workstation may keep a copy (Cache-Control: no-store). Static files are not affected
    (WhiteNoise answers them before this runs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_probe(request):
            return response  # never_cache already; no user to look up
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
