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
from .store import CHUNK_TABLE, rows_as_dicts, scope_sql, vector_literal
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
# What a patient's first search costs is the pages it reads (bench/README.md, 10M chunks), so
# every statement reads only that patient's chunks, once, through the patient b-tree: the note
# fields a hit shows are copied onto the chunk (charts migration 0011), so no note is read, and
# the k winners are re-read by their row address (`ctid`, from the same read in the same
# statement) rather than probed in the primary key. Every read also names the patient
# (`c.patient_id = %s`), so a distributed engine sharding chunks by patient (Citus; README,
# Production) routes the whole statement to one shard.
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
            SELECT scored.id, chart.tid, scored.score,
                   row_number() OVER (ORDER BY scored.score DESC, ts_rank_cd(chart.tsv, any_word.query) DESC,
                                      scored.id) AS rank
            FROM scored JOIN chart ON chart.id = scored.id,
                 (SELECT string_agg(quote_literal(word), ' | ')::tsquery AS query FROM words) any_word
        )"""


def _text_ranking_ctes(access: str) -> str:
    """CTEs ending in `txt (id, tid, score, rank)`; parameters: patient id, access params, query text."""
    return f"""
        chart AS MATERIALIZED (
            SELECT c.id, c.ctid AS tid, c.tsv FROM {CHUNK_TABLE} c WHERE c.patient_id = %s AND {access}
        ), {_TEXT_RANKING}"""


_HIT_COLUMNS = """c.id AS chunk_id, c.note_id, c.patient_id, c.ordinal, c.char_start, c.char_end,
               c.section, c.text"""
_NOTE_COLUMNS = "c.note_type, c.authored_at, c.author_role"  # the note's, copied onto the chunk


def patient_vector_search(
    cursor, *, patient_id: int, query_vector: Sequence[float] | np.ndarray, k: int, scope: AccessScope
) -> list[Hit]:
    """The k chunks of this patient nearest to the query (cosine), if the scope admits the patient.

    Chunks embedded with a model of another dimension (mid re-embedding) are skipped."""
    access, access_params = scope_sql(scope, patient_column="c.patient_id", patient_id=patient_id)
    # The patient's chunks are ranked in the inner query; only the k winners meet their notes.
    cursor.execute(
        f"""
        SELECT top.*, 1 - top.distance AS score
        FROM (
            SELECT {_HIT_COLUMNS}, {_NOTE_COLUMNS}, c.embedding <=> q.v AS distance
            FROM (SELECT %s::{store.EMBEDDING_TYPE} AS v) q, {CHUNK_TABLE} c
            WHERE c.patient_id = %s AND c.embedding IS NOT NULL AND c.embedding_dim = %s AND {access}
            ORDER BY distance, c.id
            LIMIT %s
        ) top
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
        FROM {CHUNK_TABLE} c
        WHERE c.patient_id = %s AND {access}
        ORDER BY c.authored_at DESC, c.note_id DESC, c.ordinal
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
        JOIN {CHUNK_TABLE} c ON c.ctid = txt.tid AND c.patient_id = %s
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
        JOIN {CHUNK_TABLE} c ON c.ctid = txt.tid AND c.patient_id = %s,
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
    # One read of the patient's chunks (`chart`: ids, words, distance, note date) ranks every
    # candidate; only the k winners are read again, by row address.
    if half_life is None:
        score = "f.rrf::float8"
    else:  # weighed by how much older its note is than the newest candidate's
        score = """(f.rrf * power(0.5, extract(epoch FROM max(chart.authored_at) OVER () - chart.authored_at)
                                  / 86400.0 / %s::float8))::float8"""
    cursor.execute(
        f"""
        WITH chart AS MATERIALIZED (
            SELECT c.id, c.ctid AS tid, c.tsv, c.authored_at,
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
        ), top AS (
            SELECT f.id, chart.tid, f.vector_rank, f.text_rank, {score} AS score
            FROM fused f JOIN chart ON chart.id = f.id
            ORDER BY score DESC, f.id LIMIT %s
        )
        SELECT {_HIT_COLUMNS}, top.vector_rank, top.text_rank, top.score, {_NOTE_COLUMNS}
        FROM top JOIN {CHUNK_TABLE} c ON c.ctid = top.tid AND c.patient_id = %s
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
            *([half_life] if half_life else []),
            k,
            patient_id,
        ],
    )
    hits = []
    for row in rows_as_dicts(cursor):
        extra = {"vector_rank": row.pop("vector_rank"), "text_rank": row.pop("text_rank")}
        hits.append(Hit(**row, extra=extra))
    return hits
