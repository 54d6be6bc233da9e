"""Thin task doors: ids in, one service call (queue `embed`)."""

from celery import shared_task

from .indexing import notes_index


@shared_task(acks_late=True, time_limit=900, soft_time_limit=840)
def notes_embed(note_ids: list[int]) -> int:
    return notes_index(note_ids=note_ids, only_pending=True)
