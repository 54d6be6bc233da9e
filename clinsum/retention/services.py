"""Admin writes to retention: policies and legal holds. Every change is audited."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from clinsum.audit.services import audit_record
from clinsum.charts.models import Patient

from .models import LegalHold, RetentionPolicy
from .purge import RETENTION_LOCK
from .selectors import retention_admin_check


class RetentionError(Exception):
    """A change that was refused; the message is safe to show."""


def retention_policy_create(
    *, actor, target: str, keep_days: int, active: bool = True, request=None
) -> RetentionPolicy:
    retention_admin_check(user=actor)
    with transaction.atomic():
        if RetentionPolicy.objects.filter(target=target).exists():
            raise RetentionError("A policy for this target exists already; edit it instead.")
        policy = RetentionPolicy.objects.create(target=target, keep_days=keep_days, active=active)
        audit_record(action="retention_policy_change", request=request, actor=actor, object_type="retention_policy",
                     object_id=policy.pk, reason=f"created target={target} keep_days={keep_days} active={active}")
    return policy


def retention_policy_update(*, actor, policy_id: int, keep_days: int, active: bool, request=None) -> RetentionPolicy:
    retention_admin_check(user=actor)
    with transaction.atomic():
        policy = RetentionPolicy.objects.select_for_update().get(pk=policy_id)
        changes = []
        if policy.keep_days != keep_days:
            changes.append(f"keep_days {policy.keep_days}->{keep_days}")
        if policy.active != active:
            changes.append(f"active {policy.active}->{active}")
        if not changes:
            return policy
        policy.keep_days, policy.active = keep_days, active
        policy.save(update_fields=["keep_days", "active", "updated_at"])
        audit_record(action="retention_policy_change", request=request, actor=actor, object_type="retention_policy",
                     object_id=policy.pk, reason=f"target={policy.target} " + " ".join(changes))
    return policy


def _retention_lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RETENTION_LOCK])


def legal_hold_place(*, actor, mrn: str, reason: str, request=None) -> LegalHold:
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
        audit_record(action="legal_hold_place", request=request, actor=actor, patient_id=patient.pk,
                     object_type="legal_hold", object_id=hold.pk, reason=reason)
    return hold


def legal_hold_release(*, actor, hold_id: int, request=None) -> LegalHold:
    retention_admin_check(user=actor)
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None:
            raise RetentionError("No such legal hold.")
        if not hold.is_active():
            raise RetentionError("This hold was released already.")
        hold.released_at, hold.released_by = timezone.now(), actor
        hold.save(update_fields=["released_at", "released_by"])
        audit_record(action="legal_hold_release", request=request, actor=actor, patient_id=hold.patient_id,
                     object_type="legal_hold", object_id=hold.pk, reason="released")
    return hold
