"""The chunk store: SQL through a DB-API cursor (psycopg 3, or Django's cursor wrapper).

The tables are created by ClinSum's migrations; their names live here once.
Vectors travel as pgvector text literals, so no adapter registration is needed.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .types import AccessScope, ChunkSpan

CHUNK_TABLE = "charts_chunk"
NOTE_TABLE = "charts_note"
PATIENT_TABLE = "charts_patient"
CARE_TEAM_TABLE = "charts_careteammember"


def vector_literal(vector: Sequence[float] | np.ndarray) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def chunks_replace(
    cursor, *, note_id: int, patient_id: int, chunks: Sequence[ChunkSpan], vectors: np.ndarray, model_name: str
) -> int:
    """Replace a note's chunks with these (idempotent: the same input leaves the same rows)."""
    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
    cursor.execute(f"DELETE FROM {CHUNK_TABLE} WHERE note_id = %s", [note_id])
    if not chunks:
        return 0
    dim = int(vectors.shape[1])
    rows = [
        (note_id, patient_id, c.ordinal, c.char_start, c.char_end, c.section, c.text,
         vector_literal(v), model_name, dim)
        for c, v in zip(chunks, vectors)
    ]
    cursor.executemany(
        f"INSERT INTO {CHUNK_TABLE} (note_id, patient_id, ordinal, char_start, char_end, section, text,"
        " embedding, embedding_model, embedding_dim) VALUES (%s, %s, %s, %s, %s, %s, %s, %s::vector, %s, %s)",
        rows,
    )
    return len(rows)


def scope_sql(scope: AccessScope, *, patient_column: str) -> tuple[str, list]:
    """The access filter as a SQL predicate on `patient_column`, with its parameters.

    It is ANDed into every retrieval query, so a chunk the reader may not see is never read.
    """
    if scope.unrestricted:
        return "TRUE", []
    clauses: list[str] = []
    params: list = []
    if scope.units:
        clauses.append(
            f"{patient_column} IN (SELECT id FROM {PATIENT_TABLE} WHERE unit = ANY(%s))"
        )
        params.append(list(scope.units))
    if scope.user_id is not None:
        clauses.append(
            f"{patient_column} IN (SELECT patient_id FROM {CARE_TEAM_TABLE} WHERE user_id = %s)"
        )
        params.append(scope.user_id)
    if scope.patient_ids:
        clauses.append(f"{patient_column} = ANY(%s)")
        params.append(list(scope.patient_ids))
    if not clauses:
        return "FALSE", []
    return "(" + " OR ".join(clauses) + ")", params


def rows_as_dicts(cursor) -> Iterable[dict]:
    names = [col[0] for col in cursor.description]
    for row in cursor.fetchall():
        yield dict(zip(names, row))
