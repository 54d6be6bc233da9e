"""Thin task doors: ids in, one service call (queue `embed`)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .indexing import notes_index


# A database outage is retried with backoff (2, 4, 8 ... 60 s); a task that still fails, or is
# lost with its worker, leaves its notes pending for notes_embedding_recover.
@shared_task(
    acks_late=True,
    time_limit=900,
    soft_time_limit=840,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=8,
)
def notes_embed(note_ids: list[int]) -> int:
    return notes_index(note_ids=note_ids, only_pending=True)
