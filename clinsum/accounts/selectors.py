"""Reads for identity: the admin console's users, account-change review, MFA enrolment. Each
selector checks who is asking. Care teams and break-glass grants are read in clinsum.access."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.http import Http404
from django.utils import timezone

from .models import CHART_ROLES, AccountChange, MFAEnrolmentCode, Role, User

# The session key that says this session spent an enrolment code and may set up an authenticator.
ENROLMENT_CODE_SESSION_KEY = "clinsum_mfa_enrolment_code"


def admin_check(*, user) -> None:
    if not (user.is_authenticated and user.is_active and user.role == Role.ADMIN):
        raise PermissionDenied("Only administrators manage users.")


def privacy_officer_check(*, user) -> None:
    if not (user.is_authenticated and user.is_active and user.role == Role.PRIVACY_OFFICER):
        raise PermissionDenied("Only privacy officers review break-glass access and account changes.")


def user_list_for_admin(*, user: User, query: str = "") -> QuerySet[User]:
    """Every account, or those whose username or name contains `query` (any case; staff, not
    patients, so a partial match is fine)."""
    admin_check(user=user)
    users = User.objects.order_by("username")
    query = " ".join(query.split())
    if query:
        full_name = Concat("first_name", Value(" "), "last_name", output_field=CharField())
        users = users.annotate(search_full_name=full_name).filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(search_full_name__icontains=query)
        )
    return users


def user_get_for_admin(*, user: User, user_id: int) -> User:
    admin_check(user=user)
    target = User.objects.filter(pk=user_id).first()
    if target is None:
        raise Http404("No such user.")
    return target


def locked_usernames(*, usernames) -> set[str]:
    """Which of these usernames django-axes holds locked out (from any address)."""
    from axes.models import AccessAttempt

    attempts = AccessAttempt.objects.filter(
        username__in=[u.lower() for u in usernames], failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    )
    cooloff = settings.AXES_COOLOFF_TIME
    if cooloff:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cooloff)
    return set(attempts.values_list("username", flat=True))


def chart_staff_for_admin(*, user: User) -> QuerySet[User]:
    """Active clinicians and nurses, who may be put on a care team."""
    admin_check(user=user)
    return User.objects.filter(is_active=True, role__in=CHART_ROLES).order_by("username")


# --- Account changes ---------------------------------------------------------------------------


def account_changes_for_review(*, user: User) -> QuerySet[AccountChange]:
    privacy_officer_check(user=user)
    return (
        AccountChange.objects.filter(reviewed_at__isnull=True)
        .select_related("user", "changed_by")
        .order_by("changed_at", "id")
    )


def account_change_get_for_review(*, user: User, change_id: int) -> AccountChange:
    privacy_officer_check(user=user)
    change = AccountChange.objects.filter(pk=change_id).first()
    if change is None:
        raise Http404("No such account change.")
    return change


# --- MFA enrolment -----------------------------------------------------------------------------


def mfa_enrolment_code_spent(*, user: User, code_id: int | None) -> bool:
    """The enrolment code with this id is the user's and has been spent."""
    return (
        code_id is not None and MFAEnrolmentCode.objects.filter(pk=code_id, user=user, used_at__isnull=False).exists()
    )


def mfa_enrolment_unlocked(*, user: User, session) -> bool:
    """This session spent the user's enrolment code, so it may see a new TOTP secret."""
    return mfa_enrolment_code_spent(user=user, code_id=session.get(ENROLMENT_CODE_SESSION_KEY))


def audit_username(typed: str) -> str:
    """What a failed login records as its username: the username when an account has it, else
    'unknown:' and a hash (people type their password into the username box; it must not be
    stored or exported verbatim, yet repeated attempts stay recognisable)."""
    typed = typed.strip()[:150]
    if typed and User.objects.filter(username=typed).exists():
        return typed[:64]
    return "unknown:" + hashlib.sha256(typed.encode()).hexdigest()[:16] if typed else ""
