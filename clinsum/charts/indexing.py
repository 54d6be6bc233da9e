"""Chunk and embed notes into pgvector. Runs in the `embed` worker; idempotent."""

from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from retrieval.chunking import chunk_note
from retrieval.embedding import Embedder, embedder_load
from retrieval.store import chunks_replace_many

from .models import EmbeddingStatus, Note

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def embedder_get() -> Embedder:
    """One model per process, loaded on first use from a local path."""
    return embedder_load(
        path=settings.EMBEDDING_MODEL_PATH or None,
        device=settings.EMBEDDING_DEVICE,
        batch_size=settings.EMBEDDING_BATCH_SIZE,
        backend=settings.EMBEDDING_BACKEND,
        cache_dir=settings.EMBEDDING_CACHE_DIR,
    )


def notes_index(*, note_ids: list[int], embedder: Embedder | None = None, only_pending: bool = False) -> int:
    """Chunk, embed (one batched encode across all notes) and store; returns chunks written.

    Replacing the notes' chunks wholesale (one DELETE and one COPY for the batch) makes a
    second run leave the same rows. A note amended while it was being embedded is skipped at
    write time: the amendment queued its own run.

    only_pending (the embed task, and a job indexing what the queue has not reached): notes
    already indexed are left alone, also those another process indexed while this one was
    encoding. Their chunks may be cited by a summary or draft by then, and replacing them would
    fail on those citations (a queued embed task that ran after a summary had indexed its
    patient's notes inline did)."""
    notes_qs = Note.objects.filter(pk__in=note_ids)
    if only_pending:
        notes_qs = notes_qs.exclude(embedding_status=EmbeddingStatus.DONE)
    notes = list(notes_qs.only("id", "patient_id", "text", "content_hash").order_by("pk"))
    if not notes:
        return 0
    embedder = embedder or embedder_get()
    plans = [(note.pk, note.patient_id, chunk_note(note.text, max_words=settings.CHUNK_MAX_WORDS)) for note in notes]
    vectors = embedder.encode([c.text for _, _, chunks in plans for c in chunks])
    with transaction.atomic(), connection.cursor() as cursor:
        locked = Note.objects.select_for_update().filter(pk__in=[n.pk for n in notes])
        if only_pending:
            locked = locked.exclude(embedding_status=EmbeddingStatus.DONE)
        current = dict(locked.values_list("pk", "content_hash"))
        if any(current.get(n.pk) != n.content_hash for n in notes):
            keep, kept_vectors, offset = [], [], 0
            for note, plan in zip(notes, plans):
                if current.get(note.pk) == note.content_hash:
                    keep.append(plan)
                    kept_vectors.append(vectors[offset : offset + len(plan[2])])
                offset += len(plan[2])
            plans = keep
            vectors = np.concatenate(kept_vectors) if kept_vectors else vectors[:0]
        written = chunks_replace_many(cursor, notes=plans, vectors=vectors, model_name=embedder.name)
        Note.objects.filter(pk__in=[p[0] for p in plans]).update(
            embedding_status=EmbeddingStatus.DONE, embedding_tries=0
        )
    logger.info("indexed %d notes into %d chunks", len(plans), written)
    return written
