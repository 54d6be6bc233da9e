"""The chunk store: SQL through a DB-API cursor (psycopg 3, or Django's cursor wrapper).

The tables are created by ClinSum's migrations; their names live here once.
Query vectors travel as pgvector text literals cast to the column's type, so no adapter
registration is needed. Chunk writes go through binary COPY when the cursor speaks psycopg 3
(one round trip per batch, no float formatting), and through executemany otherwise.

Embeddings are stored as `halfvec` (IEEE half precision, 2 bytes a dimension; charts migration
0009): half the bytes of `vector` for the same exact per-patient recall@10 on the retrieval
bench (bench/README.md). The encoder's float32 vectors are rounded to the nearest half on write.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

import numpy as np

from .types import AccessScope, ChunkSpan

CHUNK_TABLE = "charts_chunk"
# The SQL type of charts_chunk.embedding (the charts migrations create it); query vectors are
# cast to it so that `<=>` compares like with like. The retrieval bench sets it to "vector" to
# measure a float32 table beside a halfvec one; nothing else changes it.
EMBEDDING_TYPE = "halfvec"
EMBEDDING_TYPES = ("vector", "halfvec")
NOTE_TABLE = "charts_note"
PATIENT_TABLE = "charts_patient"
CARE_TEAM_TABLE = "charts_careteammember"

CHUNK_COLUMNS = (
    "note_id",
    "patient_id",
    "ordinal",
    "char_start",
    "char_end",
    "section",
    "text",
    "embedding",
    "embedding_model",
    "embedding_dim",
)

# One note's chunks: (note_id, patient_id, chunks), its vectors being the next len(chunks) rows.
NoteChunks = tuple[int, int, Sequence[ChunkSpan]]


def vector_literal(vector: Sequence[float] | np.ndarray) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def chunks_replace(
    cursor, *, note_id: int, patient_id: int, chunks: Sequence[ChunkSpan], vectors: np.ndarray, model_name: str
) -> int:
    """Replace a note's chunks with these (idempotent: the same input leaves the same rows)."""
    return chunks_replace_many(cursor, notes=[(note_id, patient_id, chunks)], vectors=vectors, model_name=model_name)


def chunks_replace_many(cursor, *, notes: Sequence[NoteChunks], vectors: np.ndarray, model_name: str) -> int:
    """Replace the chunks of many notes in two statements (one DELETE, one COPY).

    `vectors` holds one row per chunk, in the order of `notes` and their chunks. Idempotent."""
    total = sum(len(chunks) for _, _, chunks in notes)
    if total != len(vectors):
        raise ValueError(f"{total} chunks but {len(vectors)} vectors")
    if not notes:
        return 0
    cursor.execute(f"DELETE FROM {CHUNK_TABLE} WHERE note_id = ANY(%s)", [[int(n[0]) for n in notes]])
    if not total:
        return 0
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if hasattr(cursor, "copy"):
        chunks_copy(cursor, rows=_chunk_rows(notes), vectors=vectors, model_name=model_name)
    else:
        dim = int(vectors.shape[1])
        cursor.executemany(
            f"INSERT INTO {CHUNK_TABLE} ({', '.join(CHUNK_COLUMNS)})"
            f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s::{EMBEDDING_TYPE}, %s, %s)",
            [(*row, vector_literal(v), model_name, dim) for row, v in zip(_chunk_rows(notes), vectors)],
        )
    return total


def _chunk_rows(notes: Sequence[NoteChunks]) -> Iterable[tuple]:
    for note_id, patient_id, chunks in notes:
        for c in chunks:
            yield (note_id, patient_id, c.ordinal, c.char_start, c.char_end, c.section, c.text)


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_TRAILER = struct.pack(">h", -1)
_ROW_HEAD = struct.Struct(">hiqiqiiiiiii")  # 10 fields; bigint, bigint, int, int, int (+ lengths)


def _binary_vectors(vectors: np.ndarray, embedding_type: str) -> tuple[np.ndarray, bytes]:
    """The vectors in the binary input format of `embedding_type` (vector_recv / halfvec_recv:
    int16 dimension, int16 unused, then big-endian float32 or float16 values), and the field head
    (its byte length, dimension, unused) that goes before each one."""
    if embedding_type not in EMBEDDING_TYPES:
        raise ValueError(f"unknown embedding type {embedding_type!r}")
    dtype = ">f2" if embedding_type == "halfvec" else ">f4"
    with np.errstate(over="ignore"):
        encoded = np.ascontiguousarray(vectors, dtype=dtype)
    if not np.isfinite(encoded).all():  # pgvector refuses NaN and infinity; say which side did it
        raise ValueError(f"an embedding has a value that {embedding_type} cannot hold (NaN, or beyond its range)")
    n, dim = encoded.shape
    return encoded, struct.pack(">ihh", 4 + encoded.itemsize * dim, dim, 0)


def chunks_copy(
    cursor,
    *,
    rows: Iterable[tuple],
    vectors: np.ndarray,
    model_name: str,
    flush_bytes: int = 8 << 20,
    embedding_type: str | None = None,
) -> int:
    """COPY chunk rows (note_id, patient_id, ordinal, char_start, char_end, section, text) with
    their vectors into the chunk table in PostgreSQL's binary format. Returns rows written.
    `embedding_type` is the column's type (default EMBEDDING_TYPE).

    Also used by the retrieval benchmark to load millions of rows."""
    vectors, vector_head = _binary_vectors(vectors, embedding_type or EMBEDDING_TYPE)
    n, dim = vectors.shape
    model = model_name.encode()
    tail = struct.pack(">i", len(model)) + model + struct.pack(">ii", 4, dim)
    written = 0
    with cursor.copy(f"COPY {CHUNK_TABLE} ({', '.join(CHUNK_COLUMNS)}) FROM STDIN WITH (FORMAT BINARY)") as copy:
        buffer = bytearray(_COPY_HEADER)
        for (note_id, patient_id, ordinal, start, end, section, text), vector in zip(rows, vectors):
            section_b = section.encode()
            text_b = text.encode()
            buffer += _ROW_HEAD.pack(10, 8, note_id, 8, patient_id, 4, ordinal, 4, start, 4, end, len(section_b))
            buffer += section_b
            buffer += struct.pack(">i", len(text_b))
            buffer += text_b
            buffer += vector_head
            buffer += vector.tobytes()
            buffer += tail
            written += 1
            if len(buffer) >= flush_bytes:
                copy.write(bytes(buffer))
                buffer.clear()
        buffer += _COPY_TRAILER
        copy.write(bytes(buffer))
    if written != n:
        raise ValueError(f"{written} chunk rows but {n} vectors")
    return written


def chunks_reembed(cursor, *, chunk_ids: Sequence[int], vectors: np.ndarray, model_name: str) -> int:
    """Overwrite the embeddings of existing chunks in place (ids, offsets and text unchanged,
    so citations that point at these chunks stay valid)."""
    if len(chunk_ids) != len(vectors):
        raise ValueError(f"{len(chunk_ids)} chunks but {len(vectors)} vectors")
    if not len(chunk_ids):
        return 0
    cursor.execute(
        f"""
        UPDATE {CHUNK_TABLE} AS c
        SET embedding = v.embedding::{EMBEDDING_TYPE}, embedding_model = %s, embedding_dim = %s
        FROM unnest(%s::bigint[], %s::text[]) AS v(id, embedding)
        WHERE c.id = v.id
        """,
        [model_name, int(vectors.shape[1]), [int(i) for i in chunk_ids], [vector_literal(v) for v in vectors]],
    )
    return cursor.rowcount


def chunks_stale_note_ids(cursor, *, model_name: str, after_note_id: int = 0, limit: int = 64) -> list[int]:
    """Ids of notes (in id order, after `after_note_id`) with a chunk not embedded by `model_name`."""
    cursor.execute(
        f"""
        SELECT DISTINCT note_id FROM {CHUNK_TABLE}
        WHERE note_id > %s AND (embedding IS NULL OR embedding_model <> %s)
        ORDER BY note_id LIMIT %s
        """,
        [after_note_id, model_name, limit],
    )
    return [row[0] for row in cursor.fetchall()]


def chunks_stale_count(cursor, *, model_name: str) -> tuple[int, int]:
    """(notes, chunks) not embedded by `model_name`."""
    cursor.execute(
        f"SELECT count(DISTINCT note_id), count(*) FROM {CHUNK_TABLE} WHERE embedding IS NULL OR embedding_model <> %s",
        [model_name],
    )
    notes, chunks = cursor.fetchone()
    return int(notes), int(chunks)


def chunks_stale_for_notes(cursor, *, note_ids: Sequence[int], model_name: str) -> list[tuple[int, str]]:
    """(chunk id, text) of these notes' chunks not embedded by `model_name`."""
    cursor.execute(
        f"""
        SELECT id, text FROM {CHUNK_TABLE}
        WHERE note_id = ANY(%s) AND (embedding IS NULL OR embedding_model <> %s)
        ORDER BY note_id, ordinal
        """,
        [list(note_ids), model_name],
    )
    return [(row[0], row[1]) for row in cursor.fetchall()]


def scope_sql(scope: AccessScope, *, patient_column: str, patient_id: int) -> tuple[str, list]:
    """The access filter of a one-patient query as a SQL predicate, with its parameters.

    It pins `patient_column` to the patient and checks that the scope admits the patient (an
    uncorrelated EXISTS, which PostgreSQL runs once, as a one-time filter), and is ANDed into
    every retrieval query, so a chunk the reader may not see is never read. The terms are those
    of clinsum.access.selectors, which renders the same scope for the ORM: the patient's unit,
    the reader's care teams, patients granted by break-glass.
    """
    if scope.unrestricted:
        return "TRUE", []
    clauses: list[str] = []
    params: list = []
    if scope.units:
        clauses.append("ap.unit = ANY(%s)")
        params.append(list(scope.units))
    if scope.user_id is not None:
        clauses.append(f"EXISTS (SELECT 1 FROM {CARE_TEAM_TABLE} ct WHERE ct.patient_id = ap.id AND ct.user_id = %s)")
        params.append(scope.user_id)
    if scope.patient_ids:
        clauses.append("ap.id = ANY(%s)")
        params.append(list(scope.patient_ids))
    if not clauses:
        return "FALSE", []
    return (
        f"({patient_column} = %s AND EXISTS (SELECT 1 FROM {PATIENT_TABLE} ap WHERE ap.id = %s"
        f" AND ({' OR '.join(clauses)})))",
        [patient_id, patient_id, *params],
    )


def rows_as_dicts(cursor) -> Iterable[dict]:
    names = [col[0] for col in cursor.description]
    for row in cursor.fetchall():
        yield dict(zip(names, row))
