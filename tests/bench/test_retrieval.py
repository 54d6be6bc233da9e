"""`python -m bench retrieval` loads as the database owner and searches as the app role, on the
test database (a few patients): the loader broke when the app role lost TRUNCATE (issue 14)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from django.db import connection

from bench.retrieval import NOTES_PER_PATIENT, _chunk_texts, _meta, _truth, load
from retrieval.search import patient_vector_search
from retrieval.types import AccessScope

PARAMS = {"patients": 4, "chunks": 4 * NOTES_PER_PATIENT * 5, "dim": 384, "seed": 7, "batch": 70}


@pytest.fixture(scope="module")
def texts():
    return _chunk_texts()[:50]


@pytest.fixture
def bench_db(transactional_db):
    yield
    from clinsum.db.roles import as_owner

    with as_owner(), connection.cursor() as cursor:  # leave the migrated table as the suite expects
        cursor.execute("SELECT to_regclass('bench_chunk_plain') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("DROP TABLE charts_chunk")
            cursor.execute("ALTER TABLE bench_chunk_plain RENAME TO charts_chunk")
        cursor.execute("DROP TABLE IF EXISTS bench_meta")


def _search_all(args) -> tuple[str, list[list[int]], list[list[int]]]:
    rng = np.random.default_rng(1)
    patients = rng.integers(1, args.patients + 1, size=8)
    queries = rng.standard_normal((8, args.dim)).astype(np.float32)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        user = cursor.fetchone()[0]
        found = [
            [
                h.chunk_id
                for h in patient_vector_search(
                    cursor, patient_id=int(p), query_vector=q, k=10, scope=AccessScope(unrestricted=True)
                )
            ]
            for p, q in zip(patients, queries)
        ]
    return user, found, _truth(args, patients, queries)[0]["float32"]


@pytest.mark.parametrize("partitions", [0, 4])
def test_the_loader_runs_as_owner_and_the_search_as_the_app_role(bench_db, texts, partitions):
    from clinsum.db.roles import app_role, as_owner

    load(texts=texts, dtype="halfvec", partitions=partitions, **PARAMS)
    args = SimpleNamespace(k=10, **PARAMS)
    user, found, truth = _search_all(args)
    assert user == app_role()
    assert [sorted(f) for f in found] == [sorted(t) for t in truth]  # recall 1.0 against float32
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT patient_id) FROM charts_chunk")
        assert cursor.fetchone() == (PARAMS["chunks"], PARAMS["patients"])
        # every chunk carries its note's date, as the app's chunks do (charts migration 0011)
        cursor.execute(
            "SELECT count(*) FROM charts_chunk c JOIN charts_note n ON n.id = c.note_id"
            " WHERE c.authored_at IS DISTINCT FROM n.authored_at OR c.note_type <> n.note_type"
        )
        assert cursor.fetchone()[0] == 0
    with as_owner(), connection.cursor() as cursor:
        assert _meta(cursor)["complete"]


def test_an_interrupted_load_resumes_after_its_last_batch(bench_db, texts):
    from clinsum.db.roles import as_owner

    load(texts=texts, dtype="halfvec", partitions=0, **PARAMS)
    with as_owner(), connection.cursor() as cursor:  # as if stopped after the first batch
        cursor.execute("DELETE FROM charts_chunk WHERE id > %s", [PARAMS["batch"]])
        cursor.execute(
            "UPDATE bench_meta SET params = jsonb_set(jsonb_set(params::jsonb, '{batches_done}', '1'),"
            " '{complete}', 'false')::text"
        )
        cursor.execute("SELECT nextval(pg_get_serial_sequence('charts_chunk', 'id'))")  # a COPY that died
    load(texts=texts, dtype="halfvec", partitions=0, resume=True, **PARAMS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id), count(*) FROM charts_chunk")
        assert cursor.fetchone() == (1, PARAMS["chunks"], PARAMS["chunks"])  # ids are still row + 1
    _, found, truth = _search_all(SimpleNamespace(k=10, **PARAMS))
    assert [sorted(f) for f in found] == [sorted(t) for t in truth]
