"""Audit writes: one explicit call at the place of each read of PHI or security event.

Rows are chained: hash = SHA-256(prev_hash + canonical JSON). Writes are serialised by a
transaction-level advisory lock so the chain has one order. If the write fails the caller's
request fails (fail closed): nothing here swallows errors.
"""

from __future__ import annotations

import hashlib
import json

from django.db import connection, transaction
from django.utils import timezone

from .models import AuditArchive, AuditCheckpoint, AuditEvent
from .origin import origin_of, origin_var

GENESIS_HASH = "0" * 64
_CHAIN_LOCK = 0x434C494E53554D  # "CLINSUM": the advisory lock id of the chain head


def audit_canonical(fields: dict) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def audit_hash(prev_hash: str, fields: dict) -> str:
    return hashlib.sha256((prev_hash + audit_canonical(fields)).encode()).hexdigest()


def audit_fields(event: AuditEvent) -> dict:
    """The hashed content of a row: everything except the hashes themselves."""
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "role": event.role,
        "action": event.action,
        "patient_id": event.patient_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "reason": event.reason,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "outcome": event.outcome,
    }


def audit_record(
    *,
    action: str,
    request=None,
    actor=None,
    patient_id: int | None = None,
    object_type: str = "",
    object_id: int | str = "",
    reason: str = "",
    outcome: str = "ok",
) -> AuditEvent:
    """One row of the chain. Its origin (address, user agent, request id) comes from `request`
    when given, else from the web request being served (clinsum.audit.origin)."""
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    origin = origin_of(request) if request is not None else origin_var.get()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        if last is None:  # empty table: genesis, or the newest archive anchor if all was archived
            anchor = AuditArchive.objects.order_by("-last_seq").first()
            last = AuditEvent(seq=anchor.last_seq, hash=anchor.last_hash) if anchor else None
        event = AuditEvent(
            seq=(last.seq + 1) if last else 1,
            at=timezone.now(),
            actor_id=actor.pk if actor else None,
            actor_username=getattr(actor, "username", "") if actor else "",
            role=getattr(actor, "role", "") if actor else "",
            action=action,
            patient_id=patient_id,
            object_type=object_type,
            object_id=str(object_id) if object_id != "" else "",
            reason=reason[:500],
            ip=origin.ip,
            user_agent=origin.user_agent,
            request_id=origin.request_id,
            outcome=outcome,
            prev_hash=last.hash if last else GENESIS_HASH,
        )
        event.hash = audit_hash(event.prev_hash, audit_fields(event))
        event.save(force_insert=True)
    return event


def audit_checkpoint_create() -> AuditCheckpoint:
    """Record the chain head now (seq 0 and the genesis hash for an empty chain). Taken under the
    chain lock so head and count belong together. Copy the result off the box: see AuditCheckpoint."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        head = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
        if head is None:  # empty, or everything archived: the head is the newest anchor
            anchor = AuditArchive.objects.order_by("-last_seq").first()
            seq, digest = (anchor.last_seq, anchor.last_hash) if anchor else (0, GENESIS_HASH)
        else:
            seq, digest = head.seq, head.hash
        return AuditCheckpoint.objects.create(
            seq=seq,
            hash=digest,
            count=AuditEvent.objects.count(),
            at=timezone.now(),
        )
