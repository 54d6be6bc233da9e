"""Admin writes to retention: policies and legal holds. Every change is audited."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from clinsum.audit.services import audit_record
from clinsum.charts.models import NoteType, Patient

from .models import LegalHold, RetentionPolicy
from .purge import RETENTION_LOCK
from .selectors import retention_admin_check


class RetentionError(Exception):
    """A change that was refused; the message is safe to show."""


def target_below_floor(target: str, keep_days: int) -> bool:
    """A clinical-note policy shorter than the floor: it waits for a second administrator."""
    return target in NoteType.values and keep_days < settings.RETENTION_NOTE_FLOOR_DAYS


def _pending_request(policy: RetentionPolicy, *, actor, keep_days: int, active: bool) -> RetentionPolicy:
    policy.pending_keep_days, policy.pending_active = keep_days, active
    policy.pending_by, policy.pending_at = actor, timezone.now()
    policy.save(update_fields=["pending_keep_days", "pending_active", "pending_by", "pending_at", "updated_at"])
    audit_record(
        action="retention_policy_change",
        actor=actor,
        object_type="retention_policy",
        object_id=policy.pk,
        outcome="pending",
        reason=f"target={policy.target} keep_days {keep_days} requested below the floor of "
        f"{settings.RETENTION_NOTE_FLOOR_DAYS}; waits for a second administrator",
    )
    return policy


def retention_policy_create(*, actor, target: str, keep_days: int, active: bool = True) -> RetentionPolicy:
    """A policy for notes below the floor is created inactive (it purges nothing) with the
    request pending a second administrator's approval."""
    retention_admin_check(user=actor)
    with transaction.atomic():
        if RetentionPolicy.objects.filter(target=target).exists():
            raise RetentionError("A policy for this target exists already; edit it instead.")
        if target_below_floor(target, keep_days):
            policy = RetentionPolicy.objects.create(
                target=target, keep_days=settings.RETENTION_NOTE_FLOOR_DAYS, active=False
            )
            return _pending_request(policy, actor=actor, keep_days=keep_days, active=active)
        policy = RetentionPolicy.objects.create(target=target, keep_days=keep_days, active=active)
        audit_record(
            action="retention_policy_change",
            actor=actor,
            object_type="retention_policy",
            object_id=policy.pk,
            reason=f"created target={target} keep_days={keep_days} active={active}",
        )
    return policy


def retention_policy_approve(*, actor, policy_id: int) -> RetentionPolicy:
    """A second administrator applies a change below the floor that another one requested."""
    retention_admin_check(user=actor)
    with transaction.atomic():
        policy = RetentionPolicy.objects.select_for_update().get(pk=policy_id)
        if not policy.has_pending_change():
            raise RetentionError("This policy has no change waiting for approval.")
        if policy.pending_by_id == actor.pk:
            raise RetentionError("Another administrator must approve a change you requested.")
        requested_by = policy.pending_by_id
        assert policy.pending_keep_days is not None  # has_pending_change() says so
        policy.keep_days, policy.active = policy.pending_keep_days, bool(policy.pending_active)
        policy.pending_keep_days = policy.pending_active = policy.pending_by = policy.pending_at = None
        policy.save(
            update_fields=[
                "keep_days",
                "active",
                "pending_keep_days",
                "pending_active",
                "pending_by",
                "pending_at",
                "updated_at",
            ]
        )
        audit_record(
            action="retention_policy_change",
            actor=actor,
            object_type="retention_policy",
            object_id=policy.pk,
            outcome="approved",
            reason=f"target={policy.target} keep_days={policy.keep_days} active={policy.active}; "
            f"requested by user {requested_by}",
        )
    return policy


def retention_policy_update(*, actor, policy_id: int, keep_days: int, active: bool) -> RetentionPolicy:
    retention_admin_check(user=actor)
    with transaction.atomic():
        policy = RetentionPolicy.objects.select_for_update().get(pk=policy_id)
        if target_below_floor(policy.target, keep_days) and (
            keep_days < policy.keep_days or active and not policy.active
        ):
            return _pending_request(policy, actor=actor, keep_days=keep_days, active=active)
        changes = []
        if policy.keep_days != keep_days:
            changes.append(f"keep_days {policy.keep_days}->{keep_days}")
        if policy.active != active:
            changes.append(f"active {policy.active}->{active}")
        if not changes:
            return policy
        policy.keep_days, policy.active = keep_days, active
        policy.save(update_fields=["keep_days", "active", "updated_at"])
        audit_record(
            action="retention_policy_change",
            actor=actor,
            object_type="retention_policy",
            object_id=policy.pk,
            reason=f"target={policy.target} " + " ".join(changes),
        )
    return policy


def _retention_lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RETENTION_LOCK])


def legal_hold_place(*, actor, mrn: str, reason: str) -> LegalHold:
    """Hold every record of the patient with this MRN from purging until released."""
    retention_admin_check(user=actor)
    reason = reason.strip()
    if not reason:
        raise RetentionError("Give the reason for the hold (matter or request number).")
    with transaction.atomic():
        _retention_lock()  # waits for a purge batch in flight; later batches see the hold
        patient = Patient.objects.filter(mrn=mrn.strip()).only("id").first()
        if patient is None:
            raise RetentionError("No patient has this MRN.")
        hold = LegalHold.objects.create(patient=patient, reason=reason[:500], placed_by=actor)
        audit_record(
            action="legal_hold_place",
            actor=actor,
            patient_id=patient.pk,
            object_type="legal_hold",
            object_id=hold.pk,
            reason=reason,
        )
    return hold


def legal_hold_release(*, actor, hold_id: int) -> LegalHold:
    retention_admin_check(user=actor)
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None:
            raise RetentionError("No such legal hold.")
        if not hold.is_active():
            raise RetentionError("This hold was released already.")
        hold.released_at, hold.released_by = timezone.now(), actor
        hold.save(update_fields=["released_at", "released_by"])
        audit_record(
            action="legal_hold_release",
            actor=actor,
            patient_id=hold.patient_id,
            object_type="legal_hold",
            object_id=hold.pk,
            reason="released",
        )
    return hold
