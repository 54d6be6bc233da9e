"""The chunk store: idempotent replacement, exact vectors through binary COPY, in-place re-embedding."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from retrieval.store import chunks_reembed, chunks_replace, chunks_replace_many
from retrieval.types import ChunkSpan
from tests.retrieval.fakes import FakeEmbedder


@pytest.fixture
def note(ward):
    from clinsum.charts.models import Note

    return Note.objects.create(
        patient=ward["p1"],
        text="BP 120/80. HR 72.\nPlan: discharge home.",
        content_hash="h1",
        authored_at=datetime(2026, 11, 20, tzinfo=UTC),
    )


def spans_of(text: str) -> list[ChunkSpan]:
    first = text.index("\n")
    return [ChunkSpan(0, 0, first, "", text[:first]), ChunkSpan(1, first + 1, len(text), "plan", text[first + 1 :])]


def rows(cursor, note_id: int) -> list[tuple]:
    cursor.execute(
        "SELECT ordinal, char_start, char_end, section, text, embedding::text, embedding_model,"
        " embedding_dim, patient_id FROM charts_chunk WHERE note_id = %s ORDER BY ordinal",
        [note_id],
    )
    return cursor.fetchall()


class NoCopyCursor:
    """A DB-API cursor without psycopg's COPY: the store falls back to executemany."""

    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, *args):
        return self._cursor.execute(*args)

    def executemany(self, *args):
        return self._cursor.executemany(*args)


@pytest.mark.parametrize("wrap", [lambda c: c, NoCopyCursor], ids=["copy", "executemany"])
def test_chunks_replace_is_idempotent(cursor, note, wrap):
    spans = spans_of(note.text)
    vectors = FakeEmbedder(dim=384).encode([s.text for s in spans])
    args = {"note_id": note.pk, "patient_id": note.patient_id, "chunks": spans, "vectors": vectors, "model_name": "m"}
    assert chunks_replace(wrap(cursor), **args) == 2
    first = rows(cursor, note.pk)
    assert chunks_replace(wrap(cursor), **args) == 2
    assert rows(cursor, note.pk) == first
    assert [r[:5] for r in first] == [(0, 0, 17, "", "BP 120/80. HR 72."), (1, 18, 39, "plan", "Plan: discharge home.")]
    assert [r[6:] for r in first] == [("m", 384, note.patient_id)] * 2


@pytest.mark.parametrize("wrap", [lambda c: c, NoCopyCursor], ids=["copy", "executemany"])
def test_vectors_are_stored_as_their_nearest_halves(cursor, note, wrap):
    """halfvec (migration 0009): each float32 of the encoder is rounded to the nearest float16,
    the same by binary COPY and by the text fallback, and nothing else changes."""
    spans = spans_of(note.text)
    vectors = FakeEmbedder(dim=384).encode(["a", "b"])
    chunks_replace(
        wrap(cursor), note_id=note.pk, patient_id=note.patient_id, chunks=spans, vectors=vectors, model_name="m"
    )
    stored = np.array(
        [[float(x) for x in r[5].strip("[]").split(",")] for r in rows(cursor, note.pk)], dtype=np.float16
    )
    assert np.array_equal(stored, vectors.astype(np.float16))
    assert not np.array_equal(stored.astype(np.float32), vectors)  # really rounded: half the bytes


def test_the_embedding_column_is_halfvec(cursor):
    cursor.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'charts_chunk'::regclass AND attname = 'embedding'"
    )
    assert cursor.fetchone()[0] == "halfvec"


def test_a_vector_half_precision_cannot_hold_is_refused_before_the_database(cursor, note):
    vectors = FakeEmbedder(dim=8).encode(["a", "b"])
    vectors[1, 3] = 1e6  # beyond float16's 65504
    with pytest.raises(ValueError, match="halfvec cannot hold"):
        chunks_replace(
            cursor,
            note_id=note.pk,
            patient_id=note.patient_id,
            chunks=spans_of(note.text),
            vectors=vectors,
            model_name="m",
        )


def test_the_tsvector_follows_the_text(cursor, note):
    spans = spans_of(note.text)
    chunks_replace(
        cursor,
        note_id=note.pk,
        patient_id=note.patient_id,
        chunks=spans,
        vectors=FakeEmbedder().encode(["a", "b"]),
        model_name="m",
    )
    cursor.execute("SELECT tsv::text FROM charts_chunk WHERE note_id = %s AND ordinal = 1", [note.pk])
    assert cursor.fetchone()[0] == "'discharg':2 'home':3 'plan':1"


def test_replacing_fewer_chunks_removes_the_rest(cursor, note):
    spans = spans_of(note.text)
    embedder = FakeEmbedder()
    chunks_replace(
        cursor,
        note_id=note.pk,
        patient_id=note.patient_id,
        chunks=spans,
        vectors=embedder.encode(["a", "b"]),
        model_name="m",
    )
    chunks_replace(
        cursor,
        note_id=note.pk,
        patient_id=note.patient_id,
        chunks=spans[:1],
        vectors=embedder.encode(["a"]),
        model_name="m",
    )
    assert [r[0] for r in rows(cursor, note.pk)] == [0]
    chunks_replace(
        cursor, note_id=note.pk, patient_id=note.patient_id, chunks=[], vectors=np.zeros((0, 8)), model_name="m"
    )
    assert rows(cursor, note.pk) == []


def test_chunks_replace_many_touches_only_the_given_notes(cursor, note, ward):
    from clinsum.charts.models import Note

    other = Note.objects.create(
        patient=ward["p2"],
        text="Other.\nNote.",
        content_hash="h2",
        authored_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    embedder = FakeEmbedder()
    chunks_replace(
        cursor,
        note_id=other.pk,
        patient_id=other.patient_id,
        chunks=spans_of(other.text),
        vectors=embedder.encode(["x", "y"]),
        model_name="m",
    )
    written = chunks_replace_many(
        cursor,
        notes=[(note.pk, note.patient_id, spans_of(note.text))],
        vectors=embedder.encode(["a", "b"]),
        model_name="m",
    )
    assert written == 2 and len(rows(cursor, other.pk)) == 2


def test_chunks_and_vectors_must_agree(cursor, note):
    with pytest.raises(ValueError, match="2 chunks but 1 vectors"):
        chunks_replace(
            cursor,
            note_id=note.pk,
            patient_id=note.patient_id,
            chunks=spans_of(note.text),
            vectors=FakeEmbedder().encode(["a"]),
            model_name="m",
        )


def test_reembedding_keeps_chunk_ids_and_text(cursor, note):
    chunks_replace(
        cursor,
        note_id=note.pk,
        patient_id=note.patient_id,
        chunks=spans_of(note.text),
        vectors=FakeEmbedder().encode(["a", "b"]),
        model_name="old",
    )
    cursor.execute("SELECT id, text FROM charts_chunk WHERE note_id = %s ORDER BY ordinal", [note.pk])
    before = cursor.fetchall()
    new = FakeEmbedder(name="new", dim=16).encode(["a", "b"])
    assert chunks_reembed(cursor, chunk_ids=[r[0] for r in before], vectors=new, model_name="new") == 2
    cursor.execute(
        "SELECT id, text, embedding_model, embedding_dim FROM charts_chunk WHERE note_id = %s ORDER BY ordinal",
        [note.pk],
    )
    assert cursor.fetchall() == [(i, t, "new", 16) for i, t in before]
