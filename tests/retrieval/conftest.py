"""Charts with chunks whose vectors the test chooses, written through retrieval.store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection

from retrieval.store import chunks_replace
from retrieval.types import ChunkSpan


@pytest.fixture
def cursor(db):
    with connection.cursor() as cursor:
        yield cursor


@pytest.fixture
def add_note(db, cursor):
    """add_note(patient, [(text, vector), ...], days_ago=0) -> Note, chunks written via the store."""
    from clinsum.charts.models import Note

    def add(patient, pieces, *, days_ago: int = 0, model: str = "test-model"):
        text = "\n".join(t for t, _ in pieces)
        note = Note.objects.create(
            patient=patient,
            text=text,
            content_hash=f"{patient.pk}-{Note.objects.count()}-{hash(text)}",
            authored_at=datetime(2026, 11, 20, tzinfo=UTC) - timedelta(days=days_ago),
            note_type="progress",
        )
        spans, offset = [], 0
        for ordinal, (piece, _) in enumerate(pieces):
            spans.append(
                ChunkSpan(ordinal=ordinal, char_start=offset, char_end=offset + len(piece), section="", text=piece)
            )
            offset += len(piece) + 1
        vectors = np.array([v for _, v in pieces], dtype=np.float32)
        chunks_replace(cursor, note_id=note.pk, patient_id=patient.pk, chunks=spans, vectors=vectors, model_name=model)
        return note

    return add
