"""The retention purge as a chain of Celery tasks: one round (a batch per policy) per task."""

from celery import shared_task
from django.db import transaction

from .models import DeletionReceipt
from .purge import retention_max_rounds, retention_purge_finish, retention_purge_round, retention_purge_start


@shared_task(
    name="clinsum.retention.tasks.retention_purge",
    queue="default",
    acks_late=True,
    soft_time_limit=15 * 60,
    time_limit=20 * 60,
)
def retention_purge(receipt_id: int | None = None) -> None:
    """Beat calls it with no receipt (a new run); each task re-queues itself with the run's
    receipt id while work remains, up to RETENTION_MAX_ROUNDS rounds."""
    if receipt_id is None:
        receipt_id = retention_purge_start().pk
    more = retention_purge_round(receipt_id=receipt_id)
    if not more:
        retention_purge_finish(receipt_id=receipt_id)
    elif DeletionReceipt.objects.get(pk=receipt_id).rounds >= retention_max_rounds():
        retention_purge_finish(receipt_id=receipt_id, partial=True)
    else:
        transaction.on_commit(lambda: retention_purge.apply_async(args=[receipt_id], queue="default"))
