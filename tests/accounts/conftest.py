"""Account test helpers: logging in through the form, an administrator's console, lockouts and
idle sessions. TOTP helpers are in tests/accounts/mfa.py."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from clinsum.accounts.middleware import LAST_ACTIVITY_KEY
from clinsum.accounts.models import User
from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import totp_device
from tests.conftest import PASSWORD

TEMPORARY = "vermilion-otter-harbour-42"  # a password an administrator chose
OWN = "juniper-lantern-quartz-77"  # the one the user then chose


def audit(action):
    return AuditEvent.objects.filter(action=action).order_by("seq")


@pytest.fixture
def adam_with_phone(admin_user):
    return totp_device(admin_user)


def password_login(client, username="alice"):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def login(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def fail_until_locked(client, settings, username="alice", **extra):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, username, "wrong-password", **extra)


def idle_for(client, seconds: int) -> None:
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - seconds
    session.save()


def last_activity(client) -> int:
    return client.session[LAST_ACTIVITY_KEY]


def created_by_admin(adam, username, role, unit=""):
    response = adam.post(
        reverse("user_create"),
        {
            "username": username,
            "first_name": username.capitalize(),
            "last_name": "New",
            "role": role,
            "unit": unit,
            "password": TEMPORARY,
            "password_again": TEMPORARY,
        },
    )
    assert response.status_code in (200, 302), response.content.decode()[:500]
    return User.objects.get(username=username), response


def logged_in(username, password=TEMPORARY) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": password}).status_code == 302
    return client
