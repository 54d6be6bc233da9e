"""Writes to care teams and break-glass grants. Each is audited in its own transaction; the
audit row carries the web request's origin (clinsum.audit.origin), so no request is passed in."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from clinsum.accounts.models import CHART_ROLES, User
from clinsum.accounts.selectors import admin_check, privacy_officer_check
from clinsum.audit.services import audit_record
from clinsum.charts.models import Patient

from .models import BreakGlassGrant, CareTeamMember, ReviewOutcome

BREAK_GLASS_REASON_MAX_CHARS = 500  # the audit row keeps 500 characters of reason


class AccessError(Exception):
    """A care-team or break-glass request that cannot be done; the message is shown to the user."""


def care_team_add(*, actor: User, patient_id: int, username: str) -> CareTeamMember:
    admin_check(user=actor)
    member = User.objects.filter(username__iexact=username.strip(), is_active=True).first()
    if member is None or member.role not in CHART_ROLES:
        raise AccessError("Only an active clinician or nurse can be put on a care team.")
    if not Patient.objects.filter(pk=patient_id).exists():
        raise Http404("No such patient.")
    with transaction.atomic():
        row, created = CareTeamMember.objects.get_or_create(patient_id=patient_id, user=member)
        if not created:
            raise AccessError("This user is on the care team already.")
        audit_record(
            action="care_team_add", actor=actor, patient_id=patient_id, object_type="user", object_id=member.pk
        )
    return row


def care_team_remove(*, actor: User, patient_id: int, user_id: int) -> None:
    admin_check(user=actor)
    with transaction.atomic():
        deleted, _ = CareTeamMember.objects.filter(patient_id=patient_id, user_id=user_id).delete()
        if not deleted:
            raise Http404("No such care-team member.")
        audit_record(
            action="care_team_remove", actor=actor, patient_id=patient_id, object_type="user", object_id=user_id
        )


def patient_place(*, actor: User | None, patient_id: int, unit: str) -> tuple[str, str]:
    """Put a patient on a unit (ward code), so the unit's clinicians and nurses see the chart;
    (old unit, new unit). `actor` is the admin on the web page, or None for manage.py
    patient_place run by an operator on the server. Audited; no note is read."""
    if actor is not None:
        admin_check(user=actor)
    unit = unit.strip()
    limit = Patient._meta.get_field("unit").max_length or 64
    if not unit:
        raise AccessError("Enter a unit (ward code), e.g. 4W.")
    if len(unit) > limit or any(not c.isprintable() for c in unit):
        raise AccessError(f"A unit is a ward code of at most {limit} printable characters.")
    with transaction.atomic():
        patient = Patient.objects.select_for_update().filter(pk=patient_id).first()
        if patient is None:
            raise Http404("No such patient.")
        old = patient.unit
        if old != unit:
            patient.unit = unit
            patient.save(update_fields=["unit"])
        audit_record(
            action="patient_place",
            actor=actor,
            patient_id=patient.pk,
            object_type="patient",
            object_id=patient.pk,
            reason=f"unit {old or '(none)'} -> {unit}",
        )
    return old, unit


def access_end(*, user: User) -> tuple[int, int]:
    """Offboarding: take the user off every care team and end their grants in force now.
    Returns (care-team rows removed, grants ended); the caller audits and holds the transaction."""
    care_teams, _ = CareTeamMember.objects.filter(user=user).delete()
    now = timezone.now()
    grants = BreakGlassGrant.objects.filter(user=user, expires_at__gt=now).update(expires_at=now)
    return care_teams, grants


def access_end_on_deactivation(sender, *, user: User, **kwargs) -> str:
    """Receiver of accounts.signals.user_deactivated (connected in AccessConfig.ready)."""
    care_teams, grants = access_end(user=user)
    return f"care_teams={care_teams} break_glass_ended={grants}"


def break_glass_reason_min_chars() -> int:
    return settings.BREAK_GLASS_REASON_MIN_CHARS


def break_glass_grant(*, user: User, patient_id: int, reason: str) -> BreakGlassGrant:
    """Open a chart outside the user's scope for BREAK_GLASS_HOURS, audited as break_glass."""
    if not (user.is_authenticated and user.reads_charts()):
        raise PermissionDenied("Only clinicians and nurses can use break-glass access.")
    reason = " ".join(reason.split())
    if len(reason) < break_glass_reason_min_chars():
        raise AccessError(f"Give the reason in at least {break_glass_reason_min_chars()} characters.")
    reason = reason[:BREAK_GLASS_REASON_MAX_CHARS]
    if not Patient.objects.filter(pk=patient_id).exists():
        raise Http404("No such patient.")
    now = timezone.now()
    with transaction.atomic():
        grant = BreakGlassGrant.objects.create(
            user=user,
            patient_id=patient_id,
            reason=reason,
            granted_at=now,
            expires_at=now + timedelta(hours=settings.BREAK_GLASS_HOURS),
        )
        audit_record(
            action="break_glass",
            actor=user,
            patient_id=patient_id,
            object_type="break_glass_grant",
            object_id=grant.pk,
            reason=reason,
        )
    return grant


def break_glass_review(*, reviewer: User, grant_id: int, outcome: str, comment: str = "") -> BreakGlassGrant:
    """Record a privacy officer's finding (ReviewOutcome) on a grant, once; a note is required
    unless the access was appropriate. Audited as break_glass_review with the outcome."""
    privacy_officer_check(user=reviewer)
    if outcome not in ReviewOutcome.values:
        raise AccessError("Choose the outcome of the review.")
    comment = comment.strip()
    if not comment and outcome != ReviewOutcome.APPROPRIATE:
        raise AccessError(f"Write a note saying why the access is '{ReviewOutcome(outcome).label.lower()}'.")
    with transaction.atomic():
        grant = BreakGlassGrant.objects.select_for_update().filter(pk=grant_id).first()
        if grant is None:
            raise Http404("No such break-glass grant.")
        if grant.reviewed_at is not None:
            raise AccessError("This grant has been reviewed already.")
        grant.reviewed_by, grant.reviewed_at = reviewer, timezone.now()
        grant.review_outcome, grant.review_comment = outcome, comment[:2000]
        grant.save(update_fields=["reviewed_by", "reviewed_at", "review_outcome", "review_comment"])
        audit_record(
            action="break_glass_review",
            actor=reviewer,
            patient_id=grant.patient_id,
            object_type="break_glass_grant",
            object_id=grant.pk,
            reason=f"outcome={outcome}; {comment}",
        )
    return grant
