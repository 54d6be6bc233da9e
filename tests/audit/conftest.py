"""Audit test helpers: events with chosen times, and tampering with the trigger switched off."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import transaction

from clinsum.audit.models import AuditEvent
from clinsum.audit.services import GENESIS_HASH, audit_fields, audit_hash
from tests.conftest import owner_connection


def append_event(
    *,
    at: datetime,
    action: str = "chart_view",
    actor=None,
    patient_id: int | None = None,
    reason: str = "",
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Append a correctly chained event stamped `at` (audit_record always stamps now)."""
    with transaction.atomic():
        last = AuditEvent.objects.order_by("-seq").first()
        event = AuditEvent(
            seq=last.seq + 1 if last else 1,
            at=at.astimezone(UTC),
            actor_id=actor.pk if actor else None,
            actor_username=actor.username if actor else "",
            role=actor.role if actor else "",
            action=action,
            patient_id=patient_id,
            object_type=object_type,
            object_id=object_id,
            reason=reason,
            prev_hash=last.hash if last else GENESIS_HASH,
        )
        event.hash = audit_hash(event.prev_hash, audit_fields(event))
        event.save(force_insert=True)
    return event


def tamper(*statements: tuple[str, list]) -> None:
    """Run SQL on the audit table as its owner could (a DBA, a stolen owner password), with the
    append-only trigger disabled: what audit_verify and the checkpoints must catch. The app role
    cannot do this at all (tests/audit/test_app_role.py). Needs committed rows (transactional_db)."""
    with owner_connection() as conn, conn.transaction():
        conn.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        for sql, params in statements:
            conn.execute(sql, params)
        conn.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")


@pytest.fixture
def six_events(transactional_db, clinician, nurse):
    from clinsum.audit.services import audit_record

    return [
        audit_record(
            action="chart_view" if i % 2 else "note_view",
            actor=clinician if i % 3 else nurse,
            patient_id=100 + i,
            object_type="patient",
            object_id=100 + i,
        )
        for i in range(1, 7)
    ]
