"""The retention purge: deletes what active policies have expired, in bounded batches, and
leaves a DeletionReceipt that proves what went without keeping any of it.

A run is: `retention_purge_start` (a receipt with the run's fixed "now"), then rounds of
`retention_purge_round` (one batch per policy, each batch its own transaction), then
`retention_purge_finish` (the digest, the audit event). The Celery task runs one round per
task and re-queues itself; `retention_purge_run` does the same loop synchronously.

Every deleted note has its own audit event, written in the transaction of the batch that deleted
it. A run whose task died leaves its receipt 'running': the next run's start seals it as partial
(digest of what it did delete, from its DeletedObject rows) and audits that, so no receipt stays
open for good. Sealing a run that is in fact still going is safe: its next batch sees the sealed
receipt and stops, and the new run deletes what it left.

Idempotent: every batch selects what is still there and expired, so a redelivered task or a
second run deletes nothing twice; finishing is a conditional UPDATE (status='running').
Legal holds: a batch and the placing of a hold take the same advisory lock, so a hold placed
while a run is going is honoured by every batch that starts after it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from clinsum.asking.models import Question
from clinsum.audit.services import audit_record
from clinsum.drafting.models import Draft
from clinsum.summaries.models import ModelCall, Summary

from .models import DeletedObject, DeletionReceipt, ReceiptStatus, RetentionPolicy
from .selectors import policy_expired

RETENTION_LOCK = 0x52455445  # "RETE": serialises purge batches and legal-hold changes
COUNT_KINDS = (
    "notes",
    "chunks",
    "summaries",
    "claims",
    "citations",
    "drafts",
    "questions",
    "model_calls",
    "sessions",
)
# Model label -> counted kind. Anything else a cascade removes is counted under its label.
_KIND_OF_LABEL = {
    "charts.Note": "notes",
    "charts.Chunk": "chunks",
    "summaries.Summary": "summaries",
    "summaries.Claim": "claims",
    "summaries.Citation": "citations",
    "drafting.Draft": "drafts",
    "asking.Question": "questions",
    "summaries.ModelCall": "model_calls",  # the record of the summary's or draft's model calls goes with it
    "sessions.Session": "sessions",
}


def retention_batch_size() -> int:
    return settings.RETENTION_BATCH_SIZE


def retention_max_rounds() -> int:
    return settings.RETENTION_MAX_ROUNDS


def receipt_digest(items: Iterable[tuple[str, int]]) -> str:
    """SHA-256 of the deleted ids: one line "kind:id\\n" per id (kinds note, summary, draft, question),
    sorted by kind then numeric id. Anyone holding the list can recompute it."""
    digest = hashlib.sha256()
    for kind, object_id in sorted(items):
        digest.update(f"{kind}:{object_id}\n".encode())
    return digest.hexdigest()


INTERRUPTED_REASON = "interrupted; sealed by the next run"


def retention_purge_seal_interrupted() -> list[DeletionReceipt]:
    """Seal every receipt still 'running' as interrupted (its run's task died), each audited."""
    running = list(DeletionReceipt.objects.filter(status=ReceiptStatus.RUNNING).values_list("pk", flat=True))
    return [
        retention_purge_finish(receipt_id=pk, partial=True, reason=INTERRUPTED_REASON, interrupted=True)
        for pk in running
    ]


def retention_purge_start(*, now: datetime | None = None) -> DeletionReceipt:
    """A new run's receipt, after sealing any earlier run left running."""
    retention_purge_seal_interrupted()
    now = now or timezone.now()
    policies = [
        {"id": p.pk, "target": p.target, "keep_days": p.keep_days}
        for p in RetentionPolicy.objects.filter(active=True).order_by("target")
    ]
    return DeletionReceipt.objects.create(cutoff_now=now, policies=policies, started_at=timezone.now())


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RETENTION_LOCK])


def _merge_counts(counts: dict, deleted: dict) -> None:
    for label, n in deleted.items():
        if n:
            kind = _KIND_OF_LABEL.get(label, label)
            counts[kind] = counts.get(kind, 0) + n


def _policy_batch(*, receipt: DeletionReceipt, policy: RetentionPolicy, batch_size: int) -> tuple[bool, bool]:
    """Delete one batch for `policy` in the caller's transaction.
    Returns (deleted something, more remains)."""
    expired = policy_expired(policy=policy, now=receipt.cutoff_now)
    if expired.rows is None:
        return False, False
    ids = list(expired.rows.order_by("pk").values_list("pk", flat=True)[:batch_size])
    if not ids:
        return False, False
    patient_of: dict[int, int] = {}
    items: list[DeletedObject] = []
    counts: dict = {}
    if policy.is_note_policy():
        # Summaries citing a purged note go too, whole (claims, citations): a summary missing
        # some of its sources would read as complete when it is not.
        summary_ids = list(
            Summary.objects.filter(claims__citations__note_id__in=ids).values_list("pk", flat=True).distinct()
        )
        if summary_ids:
            _merge_counts(counts, Summary.objects.filter(pk__in=summary_ids).only("pk").delete()[1])
            items += [DeletedObject(receipt=receipt, kind="summary", object_id=i) for i in summary_ids]
        # Unsigned drafts quoting a purged note go whole for the same reason (a sentence would
        # lose its citation and still read as drafted from the chart). Signed drafts stay: their
        # own note is the record, and only their citation rows of the purged note go.
        draft_ids = list(
            Draft.objects.filter(sentences__citations__note_id__in=ids, signed_at__isnull=True)
            .values_list("pk", flat=True)
            .distinct()
        )
        if draft_ids:
            _merge_counts(counts, Draft.objects.filter(pk__in=draft_ids).only("pk").delete()[1])
            items += [DeletedObject(receipt=receipt, kind="draft", object_id=i) for i in draft_ids]
        # A question whose answer quotes a purged note goes whole, as a summary does.
        question_ids = list(
            Question.objects.filter(sentences__citations__note_id__in=ids).values_list("pk", flat=True).distinct()
        )
        if question_ids:
            _merge_counts(counts, Question.objects.filter(pk__in=question_ids).only("pk").delete()[1])
            items += [DeletedObject(receipt=receipt, kind="question", object_id=i) for i in question_ids]
        # The record of a model call holds the text of every note it sent (cited or not): it
        # cannot outlive one of them, even where its summary or signed draft stays.
        _merge_counts(counts, ModelCall.objects.filter(note_ids__overlap=ids).delete()[1])
        patient_of = dict(expired.rows.model.objects.filter(pk__in=ids).values_list("pk", "patient_id"))
        # only("pk"): the collector need not load note text to delete it.
        _merge_counts(counts, expired.rows.model.objects.filter(pk__in=ids).only("pk").delete()[1])
        items += [DeletedObject(receipt=receipt, kind="note", object_id=i) for i in ids]
    else:
        _merge_counts(counts, expired.rows.model.objects.filter(pk__in=ids).only("pk").delete()[1])
        kind = {"summary": "summary", "draft": "draft", "question": "question"}.get(policy.target)
        if kind:  # session keys are secrets (the cookie value): counted, never listed
            items += [DeletedObject(receipt=receipt, kind=kind, object_id=i) for i in ids]
    DeletedObject.objects.bulk_create(items, ignore_conflicts=True)
    # One event per deleted note, in this batch's transaction: if the run dies later, every note
    # it did delete is still accounted for in the audit trail.
    for note_id in ids if policy.is_note_policy() else ():
        audit_record(
            action="retention_delete",
            object_type="note",
            object_id=note_id,
            patient_id=patient_of.get(note_id),
            reason=f"run {receipt.run_id} policy {policy.pk}",
        )
    _merge_counts(receipt.counts, counts)
    receipt.batches += 1
    more = len(ids) == batch_size and expired.rows.exists()
    return True, more


def retention_purge_round(*, receipt_id: int) -> bool:
    """One batch per policy of the run, each in its own transaction. True if work remains."""
    batch_size = retention_batch_size()
    more = False
    receipt = DeletionReceipt.objects.get(pk=receipt_id)
    if receipt.status != ReceiptStatus.RUNNING:
        return False
    policy_ids = [p["id"] for p in receipt.policies]
    for policy in RetentionPolicy.objects.filter(pk__in=policy_ids, active=True).order_by("target"):
        with transaction.atomic():
            _lock()
            receipt = DeletionReceipt.objects.select_for_update().get(pk=receipt_id)
            if receipt.status != ReceiptStatus.RUNNING:
                return False
            deleted, policy_more = _policy_batch(receipt=receipt, policy=policy, batch_size=batch_size)
            if deleted:
                receipt.save(update_fields=["counts", "batches"])
            more = more or policy_more
    DeletionReceipt.objects.filter(pk=receipt_id, status=ReceiptStatus.RUNNING).update(rounds=F("rounds") + 1)
    return more


def retention_purge_finish(
    *, receipt_id: int, partial: bool = False, reason: str = "", interrupted: bool = False
) -> DeletionReceipt:
    """Seal the receipt (digest, finished_at) and audit the run, once. `reason` says why a run
    was sealed early (the audit event carries it); `interrupted`: its task died, a later run seals it."""
    with transaction.atomic():
        receipt = DeletionReceipt.objects.select_for_update().get(pk=receipt_id)
        if receipt.status != ReceiptStatus.RUNNING:
            return receipt
        items = DeletedObject.objects.filter(receipt=receipt).values_list("kind", "object_id")
        receipt.deleted_ids_sha256 = receipt_digest(items.iterator(chunk_size=10_000))
        receipt.counts = {kind: receipt.counts.get(kind, 0) for kind in COUNT_KINDS} | receipt.counts
        if interrupted:
            receipt.status = ReceiptStatus.INTERRUPTED
        else:
            receipt.status = ReceiptStatus.PARTIAL if partial else ReceiptStatus.DONE
        receipt.finished_at = timezone.now()
        receipt.save(update_fields=["deleted_ids_sha256", "counts", "status", "finished_at"])
        counted = " ".join(f"{kind}={n}" for kind, n in receipt.counts.items())
        audit_record(
            action="retention_purge",
            object_type="deletion_receipt",
            object_id=receipt.pk,
            reason=f"run {receipt.run_id} {receipt.status}{f' ({reason})' if reason else ''}: "
            f"{counted} batches={receipt.batches} "
            f"sha256={receipt.deleted_ids_sha256}",
        )
    return receipt


def retention_purge_run(*, now: datetime | None = None) -> DeletionReceipt:
    """The whole run in this process (cron-less sites, `retention_purge --run`, tests)."""
    receipt = retention_purge_start(now=now)
    rounds = 0
    while retention_purge_round(receipt_id=receipt.pk):
        rounds += 1
        if rounds >= retention_max_rounds():
            return retention_purge_finish(receipt_id=receipt.pk, partial=True)
    return retention_purge_finish(receipt_id=receipt.pk)
