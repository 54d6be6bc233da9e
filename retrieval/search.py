"""Per-patient retrieval. Exact by design: the b-tree on chunk.patient_id narrows to one
patient's chunks and the distance sort runs over all of them, so no relevant chunk is missed
(filtered HNSW in pgvector 0.6 returned too few rows; see DESIGN.md)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .store import CHUNK_TABLE, NOTE_TABLE, rows_as_dicts, scope_sql, vector_literal
from .types import AccessScope, Hit


def patient_vector_search(
    cursor, *, patient_id: int, query_vector: Sequence[float] | np.ndarray, k: int, scope: AccessScope
) -> list[Hit]:
    """The k chunks of this patient nearest to the query (cosine), if the scope admits the patient."""
    access, access_params = scope_sql(scope, patient_column="c.patient_id")
    cursor.execute(
        f"""
        SELECT c.id AS chunk_id, c.note_id, c.patient_id, c.ordinal, c.char_start, c.char_end,
               c.section, c.text, 1 - (c.embedding <=> %s::vector) AS score,
               n.note_type, n.authored_at, n.author_role
        FROM {CHUNK_TABLE} c JOIN {NOTE_TABLE} n ON n.id = c.note_id
        WHERE c.patient_id = %s AND c.embedding IS NOT NULL AND {access}
        ORDER BY c.embedding <=> %s::vector, c.id
        LIMIT %s
        """,
        [vector_literal(query_vector), patient_id, *access_params, vector_literal(query_vector), k],
    )
    return [Hit(**row) for row in rows_as_dicts(cursor)]
