"""Test helpers for MFA-verified sessions, and an opt-in pytest plugin.

Administrators and privacy officers reach no page until their session has verified a TOTP
token (clinsum.accounts.middleware.MFARequiredMiddleware). Tests that only want "an admin who
is logged in" use login_verified(). Suites written before MFA existed can load this module as
a plugin (`-p tests.accounts.mfa`, or import `mfa_verified_force_login` into a conftest): then
Client.force_login gives MFA roles a verified session, as a real login plus token would.
"""

from __future__ import annotations

import pytest
from django.http import HttpRequest


def totp_device(user, *, confirmed: bool = True):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()
    return device or TOTPDevice.objects.create(user=user, name="test phone", confirmed=confirmed)


def session_verify(client, user):
    """Mark the client's (logged-in) session as verified by the user's TOTP device."""
    import django_otp

    device = totp_device(user)
    request = HttpRequest()
    request.session = client.session
    request.user = user
    django_otp.login(request, device)
    request.session.save()
    return device


def login_verified(client, user):
    """force_login, plus a verified TOTP device for the roles that need one."""
    client.force_login(user)
    if user.needs_mfa():
        session_verify(client, user)
    return client


def enrolment_unlock(client, user) -> None:
    """What a user does with the one-time code an administrator gave them: enter it on the
    enrolment page (the code is issued here as from the server's command line)."""
    from django.urls import reverse

    from clinsum.accounts.services import mfa_enrolment_code_issue

    code = mfa_enrolment_code_issue(actor=None, user_id=user.pk)
    response = client.post(reverse("mfa_enrol"), {"code": code})
    assert response.status_code == 302, response.content.decode()[:500]


def totp_now(device) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture(autouse=True)
def mfa_verified_force_login(monkeypatch):
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if getattr(user, "needs_mfa", None) and user.needs_mfa():
            session_verify(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)
