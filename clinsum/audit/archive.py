"""Archiving audit events once they are older than the minimum retention (six years).

The only way events leave the table, in this order:
1. a checkpoint of the current head (so the archive run itself is anchored);
2. the oldest events, a contiguous run of seq from the previous archive (or 1) up to the last
   event older than `before`, are re-verified and written to a JSON-lines file with their hashes;
3. in one transaction: an AuditArchive anchor (first/last seq, last hash, the file's sha256) is
   recorded, `SET LOCAL clinsum.audit_archive = 'on'` opens the trigger's archive path (it still
   refuses events younger than six years and events outside an anchor), the rows are deleted,
   and an `audit_archive` event is appended.
It runs as the database owner (DATABASE_OWNER_URL; an operator's task): the application's role
has no DELETE on the audit table. After that, audit_verify starts from the anchor: the first
remaining event must chain from its last_hash. Keep the file (and its sha256) with the off-box checkpoints.
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from clinsum.db.roles import as_owner

from .models import AuditArchive, AuditEvent
from .services import GENESIS_HASH, audit_checkpoint_create, audit_fields, audit_record
from .verification import VERIFY_BATCH_SIZE, chain_walk, file_sha256

LEGAL_MIN_RETENTION_DAYS = 2192  # six years; the database trigger enforces the same floor


class AuditArchiveRefused(Exception):
    """Nothing was archived; the message says why."""


def audit_min_retention_days() -> int:
    days = settings.AUDIT_MIN_RETENTION_DAYS
    if days < LEGAL_MIN_RETENTION_DAYS:
        raise AuditArchiveRefused(
            f"AUDIT_MIN_RETENTION_DAYS is {days}; audit events must be kept at least {LEGAL_MIN_RETENTION_DAYS} days"
        )
    return days


def audit_archive_cutoff(*, before: date) -> datetime:
    """Midnight at the start of `before` in the hospital's time zone."""
    return datetime.combine(before, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def audit_archive_create(*, before: date, out: Path, now: datetime | None = None) -> AuditArchive:
    """Runs as the database owner: the app role may never delete audit events (clinsum.db)."""
    with as_owner(required=True):
        return _archive_create(before=before, out=out, now=now)


def _archive_create(*, before: date, out: Path, now: datetime | None) -> AuditArchive:
    now = now or timezone.now()
    cutoff = audit_archive_cutoff(before=before)
    days = audit_min_retention_days()
    oldest_allowed = now - timedelta(days=days)
    if cutoff > oldest_allowed:
        local = oldest_allowed.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
        raise AuditArchiveRefused(
            f"audit events are kept at least {days} days: --before must be {local} or earlier, got {before}"
        )
    out = Path(out)
    if out.exists():
        raise AuditArchiveRefused(f"{out} exists; an archive file is never overwritten")

    checkpoint = audit_checkpoint_create()
    previous = AuditArchive.objects.order_by("-last_seq").first()
    start_seq = previous.last_seq + 1 if previous else 1
    start_prev = previous.last_hash if previous else GENESIS_HASH
    # A contiguous run from the start: stop before the first event that is not older than the cutoff.
    first_young = AuditEvent.objects.filter(at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
    events = AuditEvent.objects.filter(seq__gte=start_seq)
    if first_young is not None:
        events = events.filter(seq__lt=first_young)
    last_seq = events.order_by("-seq").values_list("seq", flat=True).first()
    if last_seq is None:
        raise AuditArchiveRefused(f"no events older than {before} are left to archive")

    partial = out.with_name(out.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:

        def rows():
            for event in events.order_by("seq").iterator(chunk_size=VERIFY_BATCH_SIZE):
                fields = audit_fields(event)
                handle.write(json.dumps({**fields, "prev_hash": event.prev_hash, "hash": event.hash}, sort_keys=True))
                handle.write("\n")
                yield fields, event.prev_hash, event.hash

        report = chain_walk(rows(), start_seq=start_seq, start_prev=start_prev)
        handle.flush()
        os.fsync(handle.fileno())
    if not report.ok or report.head_seq != last_seq:
        partial.unlink()
        raise AuditArchiveRefused(f"the chain is broken, nothing archived: {report.summary()}")
    os.replace(partial, out)
    sha = file_sha256(out)

    try:
        return _archive_commit(
            out=out, sha=sha, report=report, start_seq=start_seq, before=before, cutoff=cutoff, checkpoint=checkpoint
        )
    except BaseException:
        out.unlink(missing_ok=True)  # nothing was removed, so the file is not an archive
        raise


def _archive_commit(*, out, sha, report, start_seq, before, cutoff, checkpoint) -> AuditArchive:
    last_seq = report.head_seq
    with transaction.atomic():
        archive = AuditArchive.objects.create(
            first_seq=start_seq,
            last_seq=last_seq,
            last_hash=report.head_hash,
            count=report.count,
            before=cutoff,
            file_name=out.name[:300],
            file_sha256=sha,
            checkpoint=checkpoint,
            created_at=timezone.now(),
            created_by=_os_user(),
        )
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL clinsum.audit_archive = 'on'")
            cursor.execute("DELETE FROM audit_auditevent WHERE seq BETWEEN %s AND %s", [start_seq, last_seq])
            deleted = cursor.rowcount
            cursor.execute("SET LOCAL clinsum.audit_archive = 'off'")
        if deleted != report.count:
            raise AuditArchiveRefused(f"expected to remove {report.count} events, removed {deleted}; rolled back")
        audit_record(
            action="audit_archive",
            object_type="audit_archive",
            object_id=archive.pk,
            reason=f"seq {start_seq}-{last_seq} ({report.count} events) before {before}; file sha256 {sha}; "
            f"by {archive.created_by}",
        )
    return archive


def _os_user() -> str:
    try:
        return f"os:{getpass.getuser()}"[:150]
    except (KeyError, OSError):
        return "os:unknown"
