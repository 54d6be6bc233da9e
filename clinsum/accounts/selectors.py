"""Reads for identity and access: the admin console, break-glass grants and their review.
Each selector checks who is asking."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from .models import CHART_ROLES, AccountChange, BreakGlassGrant, MFAEnrolmentCode, Role, User

# The session key that says this session spent an enrolment code and may set up an authenticator.
ENROLMENT_CODE_SESSION_KEY = "clinsum_mfa_enrolment_code"


def admin_check(*, user) -> None:
    if not (user.is_authenticated and user.is_active and user.role == Role.ADMIN):
        raise PermissionDenied("Only administrators manage users.")


def privacy_officer_check(*, user) -> None:
    if not (user.is_authenticated and user.is_active and user.role == Role.PRIVACY_OFFICER):
        raise PermissionDenied("Only privacy officers review break-glass access and account changes.")


def user_list_for_admin(*, user: User) -> QuerySet[User]:
    admin_check(user=user)
    return User.objects.order_by("username")


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


def patient_for_admin(*, user: User, patient_id: int):
    """Id and unit only: an administrator manages care teams without seeing who the patient is."""
    from clinsum.charts.models import Patient

    admin_check(user=user)
    patient = Patient.objects.filter(pk=patient_id).only("id", "unit").first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def patient_units_for_admin(*, user: User) -> list[str]:
    from clinsum.charts.models import Patient

    admin_check(user=user)
    return list(Patient.objects.exclude(unit="").order_by("unit").values_list("unit", flat=True).distinct())


def patients_on_unit_for_admin(*, user: User, unit: str) -> list[dict]:
    """Patient ids on a unit with their care-team size, in id order; no identity."""
    from django.db.models import Count

    from clinsum.charts.models import Patient

    admin_check(user=user)
    return list(Patient.objects.filter(unit=unit).order_by("id").annotate(members=Count("care_team"))
                .values("id", "unit", "members"))


def care_team_for_admin(*, user: User, patient_id: int) -> QuerySet[User]:
    admin_check(user=user)
    return User.objects.filter(care_teams__patient_id=patient_id).order_by("username")


# --- Break-glass -------------------------------------------------------------------------------

def break_glass_grants_active(*, user: User, now: datetime | None = None) -> QuerySet[BreakGlassGrant]:
    """The user's unexpired grants; empty for anyone who does not read charts."""
    if not (user.is_authenticated and user.reads_charts()):
        return BreakGlassGrant.objects.none()
    now = now or timezone.now()
    return BreakGlassGrant.objects.filter(user=user, granted_at__lte=now, expires_at__gt=now)


def break_glass_banner_grants(*, user: User) -> list[BreakGlassGrant]:
    """Active grants for patients the user would not otherwise see (the chart banner)."""
    grants = break_glass_grants_active(user=user)
    in_scope = Q(patient__care_team__user=user)
    if user.is_authenticated and user.unit:
        in_scope |= Q(patient__unit=user.unit)
    latest: dict[int, BreakGlassGrant] = {}
    for grant in grants.exclude(in_scope).only("id", "patient_id", "expires_at").order_by("expires_at"):
        latest[grant.patient_id] = grant  # one banner per patient: the grant that ends last
    return list(latest.values())


def break_glass_grants_for_review(*, user: User) -> QuerySet[BreakGlassGrant]:
    privacy_officer_check(user=user)
    return (BreakGlassGrant.objects.filter(reviewed_at__isnull=True)
            .select_related("user").order_by("granted_at", "id"))


def break_glass_grant_get_for_review(*, user: User, grant_id: int) -> BreakGlassGrant:
    privacy_officer_check(user=user)
    grant = BreakGlassGrant.objects.filter(pk=grant_id).select_related("user").first()
    if grant is None:
        raise Http404("No such break-glass grant.")
    return grant


# --- Account changes ---------------------------------------------------------------------------

def account_changes_for_review(*, user: User) -> QuerySet[AccountChange]:
    privacy_officer_check(user=user)
    return (AccountChange.objects.filter(reviewed_at__isnull=True)
            .select_related("user", "changed_by").order_by("changed_at", "id"))


def account_change_get_for_review(*, user: User, change_id: int) -> AccountChange:
    privacy_officer_check(user=user)
    change = AccountChange.objects.filter(pk=change_id).first()
    if change is None:
        raise Http404("No such account change.")
    return change


# --- MFA enrolment -----------------------------------------------------------------------------

def mfa_enrolment_unlocked(*, user: User, session) -> bool:
    """This session spent the user's enrolment code, so it may see a new TOTP secret."""
    code_id = session.get(ENROLMENT_CODE_SESSION_KEY)
    return code_id is not None and MFAEnrolmentCode.objects.filter(
        pk=code_id, user=user, used_at__isnull=False).exists()


def audit_username(typed: str) -> str:
    """What a failed login records as its username: the username when an account has it, else
    'unknown:' and a hash (people type their password into the username box; it must not be
    stored or exported verbatim, yet repeated attempts stay recognisable)."""
    typed = typed.strip()[:150]
    if typed and User.objects.filter(username=typed).exists():
        return typed[:64]
    return "unknown:" + hashlib.sha256(typed.encode()).hexdigest()[:16] if typed else ""
