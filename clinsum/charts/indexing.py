"""Chunk and embed notes into pgvector. Runs in the `embed` worker; idempotent."""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction

from retrieval.chunking import chunk_note
from retrieval.embedding import Embedder, embedder_load
from retrieval.store import chunks_replace

from .models import EmbeddingStatus, Note

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def embedder_get() -> Embedder:
    """One model per process, loaded on first use from a local path."""
    return embedder_load(
        path=settings.EMBEDDING_MODEL_PATH or None,
        device=settings.EMBEDDING_DEVICE,
        batch_size=settings.EMBEDDING_BATCH_SIZE,
    )


def notes_index(*, note_ids: list[int]) -> int:
    """Chunk, embed (one batched encode across all notes) and store; returns chunks written.

    Replacing a note's chunks wholesale makes a second run leave the same rows."""
    notes = list(Note.objects.filter(pk__in=note_ids).only("id", "patient_id", "text"))
    if not notes:
        return 0
    embedder = embedder_get()
    plans = [(note, chunk_note(note.text, max_words=settings.CHUNK_MAX_WORDS)) for note in notes]
    texts = [c.text for _, chunks in plans for c in chunks]
    vectors = embedder.encode(texts)
    written = 0
    offset = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for note, chunks in plans:
            written += chunks_replace(
                cursor, note_id=note.pk, patient_id=note.patient_id, chunks=chunks,
                vectors=vectors[offset : offset + len(chunks)], model_name=embedder.name,
            )
            offset += len(chunks)
        Note.objects.filter(pk__in=[n.pk for n in notes]).update(embedding_status=EmbeddingStatus.DONE)
    logger.info("indexed %d notes into %d chunks", len(notes), written)
    return written
