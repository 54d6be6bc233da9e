"""Per-patient retrieval: vector, full text, and both fused by reciprocal rank fusion.

Embeddings are halfvec (retrieval.store); the query vector is cast to the same type, so the
cosine distance is pgvector's halfvec operator. Exact by design: the b-tree on chunk.patient_id
narrows to one patient's chunks and the distance sort runs over all of them, so no relevant chunk
is missed (filtered HNSW in pgvector 0.6 returned too few rows; see DESIGN.md). The chunk table
therefore carries no ANN index (tests/retrieval/test_search.py checks). The access scope is a
predicate inside every statement, never a filter on results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import store
from .store import CHUNK_TABLE, NOTE_TABLE, rows_as_dicts, scope_sql, vector_literal
from .types import AccessScope, Hit

RRF_K = 60  # the constant of Cormack et al. (2009): score = sum over lists of 1 / (60 + rank)
TEXT_CONFIG = "english"  # must match the generated column: to_tsvector('english', text)


# Full-text ranking, per patient: any query word may match, and a chunk scores the sum of the
# inverse document frequencies (BM25's IDF, over this patient's chunks) of the query words it
# contains; ts_rank_cd breaks ties. PostgreSQL's own rankings have no IDF, so a chunk repeating
# "patient" outranked the one naming the rare drug; and statistics from this chart alone mean
# no other patient's notes shape the scores. to_tsvector parses the query (no tsquery syntax
# from the user reaches PostgreSQL) with the same configuration as the generated column.
#
# Words are matched with the function form of `tsv @@ query`, which keeps the planner off the
# GIN index: per patient, the patient b-tree already narrows to a few hundred chunks, while the
# GIN index (for cross-patient search) would first read a common word's whole posting list
# (10-14 ms at a million chunks, against about 1 ms; bench/README.md).
#
# Every statement reads the chunk table once through the patient b-tree (the `chart` CTE), and
# every later join names the patient as well as the id (`c.id = ... AND c.patient_id = %s`,
# `n.id = ... AND n.patient_id = ...`): the candidates are ranked from what that one read
# returned, only the k winners are fetched again, and a distributed engine sharding chunks and
# notes by patient (Citus; README, Production) can route the whole statement to one shard.
_TEXT_RANKING = f"""
        words AS (
            SELECT DISTINCT word, quote_literal(word)::tsquery AS query
            FROM unnest(tsvector_to_array(to_tsvector('{TEXT_CONFIG}', %s))) AS word
        ), matches AS (
            SELECT chart.id, words.word FROM chart JOIN words ON ts_match_vq(chart.tsv, words.query)
        ), idf AS (
            SELECT m.word, ln(1 + ((SELECT count(*) FROM chart) - count(*) + 0.5) / (count(*) + 0.5)) AS weight
            FROM matches m GROUP BY m.word
        ), scored AS (
            SELECT m.id, sum(idf.weight) AS score FROM matches m JOIN idf USING (word) GROUP BY m.id
        ), txt AS (
            SELECT scored.id, scored.score,
                   row_number() OVER (ORDER BY scored.score DESC, ts_rank_cd(chart.tsv, any_word.query) DESC,
                                      scored.id) AS rank
            FROM scored JOIN chart ON chart.id = scored.id,
                 (SELECT string_agg(quote_literal(word), ' | ')::tsquery AS query FROM words) any_word
        )"""


def _text_ranking_ctes(access: str) -> str:
    """CTEs ending in `txt (id, score, rank)`; parameters: patient id, access params, query text."""
    return f"""
        chart AS MATERIALIZED (
            SELECT c.id, c.tsv FROM {CHUNK_TABLE} c WHERE c.patient_id = %s AND {access}
        ), {_TEXT_RANKING}"""


_HIT_COLUMNS = """c.id AS chunk_id, c.note_id, c.patient_id, c.ordinal, c.char_start, c.char_end,
               c.section, c.text"""
_NOTE_COLUMNS = "n.note_type, n.authored_at, n.author_role"


def patient_vector_search(
    cursor, *, patient_id: int, query_vector: Sequence[float] | np.ndarray, k: int, scope: AccessScope
) -> list[Hit]:
    """The k chunks of this patient nearest to the query (cosine), if the scope admits the patient.

    Chunks embedded with a model of another dimension (mid re-embedding) are skipped."""
    access, access_params = scope_sql(scope, patient_column="c.patient_id", patient_id=patient_id)
    # The patient's chunks are ranked in the inner query; only the k winners meet their notes.
    cursor.execute(
        f"""
        SELECT top.*, 1 - top.distance AS score, {_NOTE_COLUMNS}
        FROM (
            SELECT {_HIT_COLUMNS}, c.embedding <=> q.v AS distance
            FROM (SELECT %s::{store.EMBEDDING_TYPE} AS v) q, {CHUNK_TABLE} c
            WHERE c.patient_id = %s AND c.embedding IS NOT NULL AND c.embedding_dim = %s AND {access}
            ORDER BY distance, c.id
            LIMIT %s
        ) top JOIN {NOTE_TABLE} n ON n.id = top.note_id AND n.patient_id = top.patient_id
        ORDER BY top.distance, top.chunk_id
        """,
        [vector_literal(query_vector), patient_id, len(query_vector), *access_params, k],
    )
    hits = []
    for row in rows_as_dicts(cursor):
        row.pop("distance")
        hits.append(Hit(**row))
    return hits


def patient_chunks(cursor, *, patient_id: int, scope: AccessScope, limit: int) -> list[Hit]:
    """This patient's chunks, newest notes first (at most `limit`), if the scope admits the
    patient: the whole chart, for reading it as a clinician does (retrieval.clinical.chart)."""
    access, access_params = scope_sql(scope, patient_column="c.patient_id", patient_id=patient_id)
    cursor.execute(
        f"""
        SELECT {_HIT_COLUMNS}, 1.0::float8 AS score, {_NOTE_COLUMNS}
        FROM {CHUNK_TABLE} c JOIN {NOTE_TABLE} n ON n.id = c.note_id AND n.patient_id = c.patient_id
        WHERE c.patient_id = %s AND {access}
        ORDER BY n.authored_at DESC, c.note_id DESC, c.ordinal
        LIMIT %s
        """,
        [patient_id, *access_params, limit],
    )
    return [Hit(**row) for row in rows_as_dicts(cursor)]


def patient_text_search(cursor, *, patient_id: int, query_text: str, k: int, scope: AccessScope) -> list[Hit]:
    """The k chunks of this patient that best match the words of the query (PostgreSQL full
    text, English stemming, any word may match), if the scope admits the patient. The score
    is the sum of the IDFs (over this patient's chunks) of the query words the chunk contains.
    A query of only stop words finds nothing."""
    access, access_params = scope_sql(scope, patient_column="c.patient_id", patient_id=patient_id)
    cursor.execute(
        f"""
        WITH {_text_ranking_ctes(access)}
        SELECT {_HIT_COLUMNS}, txt.score::float8 AS score, {_NOTE_COLUMNS}
        FROM (SELECT * FROM txt ORDER BY rank LIMIT %s) txt
        JOIN {CHUNK_TABLE} c ON c.id = txt.id AND c.patient_id = %s
        JOIN {NOTE_TABLE} n ON n.id = c.note_id AND n.patient_id = c.patient_id
        ORDER BY txt.rank
        """,
        [patient_id, *access_params, query_text, k, patient_id],
    )
    return [Hit(**row) for row in rows_as_dicts(cursor)]


# ts_headline marks matches with these two private-use characters (removed from the text first,
# so a note cannot forge a mark); highlight_segments turns them into (text, matched) pieces
# that a template escapes one by one. No HTML is built here.
_MARK_START, _MARK_STOP = "\ue000", "\ue001"
_HEADLINE_OPTIONS = (
    f'StartSel={_MARK_START}, StopSel={_MARK_STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "'
)


def highlight_segments(headline: str) -> list[tuple[str, bool]]:
    """A marked headline as (text, matched) pieces, in order; empty pieces dropped."""
    segments: list[tuple[str, bool]] = []
    for i, part in enumerate(headline.split(_MARK_START)):
        matched, _, rest = part.partition(_MARK_STOP) if i else ("", "", part)
        segments += [(text, flag) for text, flag in ((matched, True), (rest, False)) if text]
    return segments


def patient_text_search_passages(cursor, *, patient_id: int, query_text: str, k: int, scope: AccessScope) -> list[Hit]:
    """patient_text_search, each hit with the passage that matched: Hit.extra["segments"] is
    the chunk's best fragments as (text, matched) pieces (ts_headline over the same words, any
    of which may match). The scope is inside the statement, as in every retrieval query."""
    access, access_params = scope_sql(scope, patient_column="c.patient_id", patient_id=patient_id)
    cursor.execute(
        f"""
        WITH {_text_ranking_ctes(access)}
        SELECT {_HIT_COLUMNS}, txt.score::float8 AS score, {_NOTE_COLUMNS},
               ts_headline('{TEXT_CONFIG}', translate(c.text, %s, ''), any_word.query, %s) AS headline
        FROM (SELECT * FROM txt ORDER BY rank LIMIT %s) txt
        JOIN {CHUNK_TABLE} c ON c.id = txt.id AND c.patient_id = %s
        JOIN {NOTE_TABLE} n ON n.id = c.note_id AND n.patient_id = c.patient_id,
             (SELECT string_agg(quote_literal(word), ' | ')::tsquery AS query FROM words) any_word
        ORDER BY txt.rank
        """,
        [patient_id, *access_params, query_text, _MARK_START + _MARK_STOP, _HEADLINE_OPTIONS, k, patient_id],
    )
    hits = []
    for row in rows_as_dicts(cursor):
        headline = row.pop("headline")
        hits.append(Hit(**row, extra={"segments": highlight_segments(headline)}))
    return hits


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
    access, access_params = scope_sql(scope, patient_column="c.patient_id", patient_id=patient_id)
    vector = vector_literal(query_vector)
    if recency_half_life_days is not None and recency_half_life_days <= 0:
        raise ValueError("recency_half_life_days must be > 0")
    half_life = float(recency_half_life_days) if recency_half_life_days else None
    # One read of the patient's chunks (`chart`: ids, words, distance) ranks every candidate;
    # only the k winners are fetched again, by id and patient, and meet their notes.
    if half_life is None:
        winners = """
            SELECT f.id, f.vector_rank, f.text_rank, f.rrf::float8 AS score
            FROM fused f ORDER BY score DESC, f.id LIMIT %s"""
    else:  # every candidate's note date is needed to weigh it
        winners = f"""
            SELECT f.id, f.vector_rank, f.text_rank,
                   (f.rrf * power(0.5, extract(epoch FROM max(n.authored_at) OVER () - n.authored_at)
                                       / 86400.0 / %s::float8))::float8 AS score
            FROM fused f JOIN chart ON chart.id = f.id
            JOIN {NOTE_TABLE} n ON n.id = chart.note_id AND n.patient_id = %s
            ORDER BY score DESC, f.id LIMIT %s"""
    cursor.execute(
        f"""
        WITH chart AS MATERIALIZED (
            SELECT c.id, c.note_id, c.tsv,
                   CASE WHEN c.embedding_dim = %s THEN c.embedding <=> %s::{store.EMBEDDING_TYPE} END AS distance
            FROM {CHUNK_TABLE} c
            WHERE c.patient_id = %s AND {access}
        ), vec AS (
            SELECT id, row_number() OVER (ORDER BY distance, id) AS rank
            FROM chart WHERE distance IS NOT NULL
            ORDER BY rank LIMIT %s
        ), {_TEXT_RANKING}, txt_top AS (
            SELECT id, rank FROM txt ORDER BY rank LIMIT %s
        ), fused AS (
            SELECT id, sum(1.0 / ({RRF_K} + rank)) AS rrf,
                   min(rank) FILTER (WHERE list = 'v') AS vector_rank,
                   min(rank) FILTER (WHERE list = 't') AS text_rank
            FROM (SELECT id, rank, 'v' AS list FROM vec UNION ALL SELECT id, rank, 't' FROM txt_top) ranked
            GROUP BY id
        ), top AS ({winners}
        )
        SELECT {_HIT_COLUMNS}, top.vector_rank, top.text_rank, top.score, {_NOTE_COLUMNS}
        FROM top JOIN {CHUNK_TABLE} c ON c.id = top.id AND c.patient_id = %s
        JOIN {NOTE_TABLE} n ON n.id = c.note_id AND n.patient_id = c.patient_id
        ORDER BY top.score DESC, top.id
        """,
        [
            len(query_vector),
            vector,
            patient_id,
            *access_params,
            depth,
            query_text,
            depth,
            *([half_life, patient_id] if half_life else []),
            k,
            patient_id,
        ],
    )
    hits = []
    for row in rows_as_dicts(cursor):
        extra = {"vector_rank": row.pop("vector_rank"), "text_rank": row.pop("text_rank")}
        hits.append(Hit(**row, extra=extra))
    return hits
