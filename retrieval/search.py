"""Per-patient retrieval: vector, full text, and both fused by reciprocal rank fusion.

Exact by design: the b-tree on chunk.patient_id narrows to one patient's chunks and the
distance sort runs over all of them, so no relevant chunk is missed (filtered HNSW in pgvector
0.6 returned too few rows; see DESIGN.md). The chunk table therefore carries no ANN index
(tests/retrieval/test_search.py checks). The access scope is a predicate inside every
statement, never a filter on results.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .store import CHUNK_TABLE, NOTE_TABLE, rows_as_dicts, scope_sql, vector_literal
from .types import AccessScope, Hit

RRF_K = 60  # the constant of Cormack et al. (2009): score = sum over lists of 1 / (60 + rank)
TEXT_CONFIG = "english"  # must match the generated column: to_tsvector('english', text)

# Any term may match (OR), ranked by how many and how densely: a clinician's query names
# several things and a chunk that has some of them is still a candidate. plainto_tsquery does
# the parsing (no tsquery syntax reaches PostgreSQL from the user), then its ANDs become ORs.
_TSQUERY = f"replace(plainto_tsquery('{TEXT_CONFIG}', %s)::text, ' & ', ' | ')::tsquery"

_HIT_COLUMNS = """c.id AS chunk_id, c.note_id, c.patient_id, c.ordinal, c.char_start, c.char_end,
               c.section, c.text"""
_NOTE_COLUMNS = "n.note_type, n.authored_at, n.author_role"


def patient_vector_search(
    cursor, *, patient_id: int, query_vector: Sequence[float] | np.ndarray, k: int, scope: AccessScope
) -> list[Hit]:
    """The k chunks of this patient nearest to the query (cosine), if the scope admits the patient.

    Chunks embedded with a model of another dimension (mid re-embedding) are skipped."""
    access, access_params = scope_sql(scope, patient_column="c.patient_id")
    query = vector_literal(query_vector)
    cursor.execute(
        f"""
        SELECT {_HIT_COLUMNS}, 1 - (c.embedding <=> %s::vector) AS score, {_NOTE_COLUMNS}
        FROM {CHUNK_TABLE} c JOIN {NOTE_TABLE} n ON n.id = c.note_id
        WHERE c.patient_id = %s AND c.embedding IS NOT NULL AND c.embedding_dim = %s AND {access}
        ORDER BY c.embedding <=> %s::vector, c.id
        LIMIT %s
        """,
        [query, patient_id, len(query_vector), *access_params, query, k],
    )
    return [Hit(**row) for row in rows_as_dicts(cursor)]


def patient_text_search(cursor, *, patient_id: int, query_text: str, k: int, scope: AccessScope) -> list[Hit]:
    """The k chunks of this patient that best match the words of the query (PostgreSQL full
    text, English stemming, any word may match), if the scope admits the patient. The score
    is ts_rank_cd. A query of only stop words finds nothing."""
    access, access_params = scope_sql(scope, patient_column="c.patient_id")
    cursor.execute(
        f"""
        SELECT {_HIT_COLUMNS}, ts_rank_cd(c.tsv, q.query) AS score, {_NOTE_COLUMNS}
        FROM (SELECT {_TSQUERY} AS query) q,
             {CHUNK_TABLE} c JOIN {NOTE_TABLE} n ON n.id = c.note_id
        WHERE c.patient_id = %s AND c.tsv @@ q.query AND {access}
        ORDER BY score DESC, c.id
        LIMIT %s
        """,
        [query_text, patient_id, *access_params, k],
    )
    return [Hit(**row) for row in rows_as_dicts(cursor)]


def patient_hybrid_search(
    cursor,
    *,
    patient_id: int,
    query_text: str,
    query_vector: Sequence[float] | np.ndarray,
    k: int,
    scope: AccessScope,
    recency_half_life_days: float | None = None,
    depth: int | None = None,
) -> list[Hit]:
    """Vector and full-text rankings of this patient's chunks fused by reciprocal rank fusion
    (score = sum of 1 / (60 + rank) over the two lists, each cut at `depth`), in one statement.

    With `recency_half_life_days`, a chunk's fused score is halved for every half-life its
    note is older than the newest note among the candidates (so an old chart is not all
    discounted to nothing, and the newest note keeps its full score).
    Hit.extra carries vector_rank and text_rank (None where the chunk was not in that list)."""
    depth = depth or max(50, 4 * k)
    access, access_params = scope_sql(scope, patient_column="c.patient_id")
    vector = vector_literal(query_vector)
    if recency_half_life_days is not None and recency_half_life_days <= 0:
        raise ValueError("recency_half_life_days must be > 0")
    half_life = float(recency_half_life_days) if recency_half_life_days else None
    cursor.execute(
        f"""
        WITH vec AS (
            SELECT c.id, row_number() OVER (ORDER BY c.embedding <=> %s::vector, c.id) AS rank
            FROM {CHUNK_TABLE} c
            WHERE c.patient_id = %s AND c.embedding IS NOT NULL AND c.embedding_dim = %s AND {access}
            ORDER BY rank LIMIT %s
        ), txt AS (
            SELECT c.id, row_number() OVER (ORDER BY ts_rank_cd(c.tsv, q.query) DESC, c.id) AS rank
            FROM (SELECT {_TSQUERY} AS query) q, {CHUNK_TABLE} c
            WHERE c.patient_id = %s AND c.tsv @@ q.query AND {access}
            ORDER BY rank LIMIT %s
        ), fused AS (
            SELECT id, sum(1.0 / ({RRF_K} + rank)) AS rrf,
                   min(rank) FILTER (WHERE list = 'v') AS vector_rank,
                   min(rank) FILTER (WHERE list = 't') AS text_rank
            FROM (SELECT id, rank, 'v' AS list FROM vec UNION ALL SELECT id, rank, 't' FROM txt) ranked
            GROUP BY id
        )
        SELECT {_HIT_COLUMNS}, {_NOTE_COLUMNS}, f.vector_rank, f.text_rank,
               (f.rrf * CASE WHEN %s::float8 IS NULL THEN 1.0
                             ELSE power(0.5, extract(epoch FROM max(n.authored_at) OVER () - n.authored_at)
                                             / 86400.0 / %s::float8)
                        END)::float8 AS score
        FROM fused f JOIN {CHUNK_TABLE} c ON c.id = f.id JOIN {NOTE_TABLE} n ON n.id = c.note_id
        ORDER BY score DESC, c.id
        LIMIT %s
        """,
        [vector, patient_id, len(query_vector), *access_params, depth,
         query_text, patient_id, *access_params, depth,
         half_life, half_life, k],
    )
    hits = []
    for row in rows_as_dicts(cursor):
        extra = {"vector_rank": row.pop("vector_rank"), "text_rank": row.pop("text_rank")}
        hits.append(Hit(**row, extra=extra))
    return hits
