"""Per-patient retrieval at hospital scale: latency and recall.

    .venv/bin/python -m bench retrieval [--patients 10000] [--chunks 1000000] [--queries 1000]
        [--dtype vector,halfvec] [--partitions 0,16] [--reuse | --resume] [--load-only] [--cluster] [--cold]

Loads --chunks synthetic chunks over --patients patients (10 notes each, notes arriving in a
random order so one patient's chunks are spread over the table, as in a hospital) into the
real chunk table of its own database (clinsum_bench_1m): random unit vectors of 384
dimensions generated in numpy, chunk texts drawn from real MTSamples chunks, written with
retrieval.store.chunks_copy (binary COPY) in batches. Then, for --queries random patients:
top-10 latency (p50/p95/p99) of patient_vector_search, patient_text_search and
patient_hybrid_search under a clinician's access scope (unit or care team, inside the SQL),
and recall@10 of the vector search against numpy brute force over the same patient's vectors.
Each query's five searches run in a rotating order, so no method always pays for reading the
patient's pages; the 1,000 queries run twice (first touch, then with the pages in
shared_buffers, set to --shared-buffers on the bench cluster: PostgreSQL's default 128MB
cannot hold a second pass). --reuse keeps a database loaded by an earlier run with the same
parameters (the vectors are regenerated from the seed for the brute force).

--dtype and --partitions load and measure each embedding type (vector: float32; halfvec: float16,
the schema since charts migration 0009) and layout (0: the migrated table; N: hash-partitioned by
patient into N) in turn, on the same data and queries. Recall is against numpy brute force in
float32 and in float16. The load runs as the database owner (it truncates, drops and rebuilds
indexes); the searches run as the app role, as production does. --resume continues a load that
was stopped (each batch commits with its progress), so 10M chunks can load in several commands.

--cluster rewrites the chunk table in patient order before the queries (manage.py
cluster_chunks), as a hospital would in a maintenance window once the store outgrows memory.
--cold drops the OS page cache before the first pass (Linux, as root), so each patient's first
search reads its pages from disk rather than from memory the load left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from bench.stack import DATA, bench_setup, machine

NOTES_PER_PATIENT = 10
UNITS = 20


def _vectors(seed: int, batch_index: int, rows: int, dim: int) -> np.ndarray:
    rng = np.random.default_rng([seed, batch_index])
    vectors = rng.standard_normal((rows, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def _chunk_texts() -> list[str]:
    from retrieval.chunking import chunk_note

    texts = []
    for path in sorted((DATA / "mtsamples").glob("*.txt")):
        texts.extend(c.text for c in chunk_note(path.read_text(encoding="utf-8", errors="replace")))
    return texts


def _percentiles(samples: list[float]) -> str:
    ms = np.array(samples) * 1000
    return (
        f"p50 {np.percentile(ms, 50):.2f} ms, p95 {np.percentile(ms, 95):.2f} ms, "
        f"p99 {np.percentile(ms, 99):.2f} ms, max {ms.max():.2f} ms"
    )


def _plan(*, seed: int, patients: int, per_note: int, n_texts: int):
    """The random choices of a load, the same for every run with the same seed: each note's
    patient (note i in arrival order; patient ids are 1-based), its day offset, each chunk's text."""
    rng = np.random.default_rng(seed)
    notes = patients * NOTES_PER_PATIENT
    note_patient = rng.permutation(np.repeat(np.arange(1, patients + 1), NOTES_PER_PATIENT))
    days = rng.integers(0, 3 * 365, size=notes)
    text_picks = rng.integers(0, n_texts, size=notes * per_note)
    return note_patient, days, text_picks


def _meta(cursor) -> dict | None:
    cursor.execute("SELECT to_regclass('bench_meta') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return None
    cursor.execute("SELECT params FROM bench_meta")
    row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def _meta_save(cursor, meta: dict) -> None:
    cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (params text)")
    cursor.execute("DELETE FROM bench_meta")
    cursor.execute("INSERT INTO bench_meta VALUES (%s)", [json.dumps(meta)])


def _load_patients_and_notes(cursor, *, patients: int, note_patient, days) -> None:
    cursor.execute("TRUNCATE charts_chunk, charts_note, charts_patient, charts_careteammember RESTART IDENTITY CASCADE")
    with cursor.copy(
        "COPY charts_patient (mrn, family_name, given_name, sex, unit, source_id, created_at) FROM STDIN"
    ) as copy:
        for i in range(patients):
            copy.write_row((f"BENCH-{i:06d}", f"Patient{i}", "", "unknown", f"U{i % UNITS:02d}", "", "2026-01-01Z"))
    with cursor.copy(
        "COPY charts_note (patient_id, note_type, author, author_role, authored_at, title, text,"
        " content_hash, source, source_id, embedding_status, created_at, embedding_queued_at, embedding_tries,"
        " origin) FROM STDIN"
    ) as copy:
        for i in range(len(note_patient)):
            row = (int(note_patient[i]), "progress", "", "", "2023-01-01Z", "", "synthetic", f"{i:064x}", "bench")
            copy.write_row((*row, "", "done", "2026-01-01Z", "2026-01-01Z", 0, "import"))
    cursor.execute(
        "UPDATE charts_note SET authored_at = authored_at + make_interval(days => d.day)"
        " FROM unnest(%s::int[]) WITH ORDINALITY AS d(day, id) WHERE charts_note.id = d.id",
        [days.tolist()],
    )
    cursor.execute("VACUUM (ANALYZE) charts_note")
    cursor.execute("VACUUM (ANALYZE) charts_patient")


def _chunk_table_reset(cursor, *, dtype: str, partitions: int, app_role: str) -> list[str]:
    """An empty chunk table of this layout, without its search indexes and foreign keys (both
    come back after the load: building an index once is faster than maintaining it per row, and
    no FK trigger fires per row, without session_replication_role, which only a superuser may set).
    Returns the foreign keys' `ALTER TABLE ... ADD CONSTRAINT` statements. Owner only."""
    cursor.execute("SELECT to_regclass('bench_chunk_plain') IS NOT NULL")
    if cursor.fetchone()[0]:  # an earlier partitioned layout: the migrated table is put back
        cursor.execute("DROP TABLE charts_chunk")
        cursor.execute("ALTER TABLE bench_chunk_plain RENAME TO charts_chunk")
    cursor.execute("TRUNCATE charts_chunk RESTART IDENTITY CASCADE")
    cursor.execute("DROP INDEX IF EXISTS chunk_patient")
    cursor.execute("DROP INDEX IF EXISTS chunk_tsv")
    cursor.execute(f"ALTER TABLE charts_chunk ALTER COLUMN embedding TYPE {dtype} USING embedding::{dtype}")
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'charts_chunk'::regclass AND contype = 'f' ORDER BY conname"
    )
    foreign_keys = []
    for name, definition in cursor.fetchall():
        cursor.execute(f'ALTER TABLE charts_chunk DROP CONSTRAINT "{name}"')
        foreign_keys.append(f'ALTER TABLE charts_chunk ADD CONSTRAINT "{name}" {definition} NOT VALID')
    if partitions:
        # Hash-partitioned by patient, as a Citus shard or a large install would be. A primary key
        # must then include patient_id, so the citations' foreign keys to chunk ids would have to go.
        cursor.execute("ALTER TABLE charts_chunk RENAME TO bench_chunk_plain")
        cursor.execute(
            "CREATE TABLE charts_chunk (LIKE bench_chunk_plain INCLUDING DEFAULTS INCLUDING GENERATED"
            " INCLUDING IDENTITY INCLUDING STORAGE) PARTITION BY HASH (patient_id)"
        )
        # The searches fetch the winners by id: without this each fetch would scan every partition.
        cursor.execute("ALTER TABLE charts_chunk ADD CONSTRAINT bench_chunk_part_pkey PRIMARY KEY (id, patient_id)")
        for remainder in range(partitions):
            cursor.execute(
                f"CREATE TABLE charts_chunk_p{remainder} PARTITION OF charts_chunk"
                f" FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder}) WITH (toast_tuple_target = 8160)"
            )
        cursor.execute(  # the note fields copied onto each chunk (charts migration 0011)
            "CREATE TRIGGER charts_chunk_note_fields BEFORE INSERT ON charts_chunk"
            " FOR EACH ROW EXECUTE FUNCTION charts_chunk_note_fields()"
        )
        cursor.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON charts_chunk TO "{app_role}"')
        foreign_keys = []  # the partitioned copy is the bench's alone
    return foreign_keys


def load(
    *,
    patients: int,
    chunks: int,
    dim: int,
    seed: int,
    batch: int,
    texts: list[str],
    dtype: str,
    partitions: int,
    resume: bool = False,
) -> None:
    """Load the bench data as the database owner (the app role may not TRUNCATE or drop indexes),
    in batches that each commit with the progress, so that --resume continues after the last one."""
    from django.db import connection, transaction

    import retrieval.store
    from clinsum.db.roles import app_role, as_owner

    notes = patients * NOTES_PER_PATIENT
    per_note = chunks // notes
    params = {"patients": patients, "chunks": chunks, "dim": dim, "seed": seed, "batch": batch}
    layout = {"dtype": dtype, "partitions": partitions}
    note_patient, days, text_picks = _plan(seed=seed, patients=patients, per_note=per_note, n_texts=len(texts))
    started = time.perf_counter()
    with as_owner(), connection.cursor() as cursor:
        meta = _meta(cursor) or {}
        if resume and meta.get("params") == params and meta.get("layout") == layout:
            done = meta["batches_done"]
            print(f"  resuming after {done} batches of {batch:,} chunks", flush=True)
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('charts_chunk', 'id'), %s, %s)", [done * batch or 1, bool(done)]
            )
        else:
            if meta.get("params") != params:
                _load_patients_and_notes(cursor, patients=patients, note_patient=note_patient, days=days)
                print(f"  {patients} patients and {notes} notes in {time.perf_counter() - started:.1f} s", flush=True)
            foreign_keys = _chunk_table_reset(cursor, dtype=dtype, partitions=partitions, app_role=app_role())
            meta = {"params": params, "layout": layout, "batches_done": 0, "complete": False, "fks": foreign_keys}
            _meta_save(cursor, meta)
        total = notes * per_note
        copy_started = time.perf_counter()
        copied = 0
        for batch_index, start in enumerate(range(0, total, batch)):
            if batch_index < meta["batches_done"]:
                continue
            rows_here = min(batch, total - start)
            vectors = _vectors(seed, batch_index, rows_here, dim)
            rows = []
            for r in range(start, start + rows_here):
                note = r // per_note
                text = texts[text_picks[r]]
                rows.append((note + 1, int(note_patient[note]), r % per_note, 0, len(text), "", text))
            with transaction.atomic():  # the batch and its progress commit together
                copied += retrieval.store.chunks_copy(
                    cursor, rows=rows, vectors=vectors, model_name="bench-random", embedding_type=dtype
                )
                meta["batches_done"] = batch_index + 1
                _meta_save(cursor, meta)
            elapsed = time.perf_counter() - copy_started
            print(f"  {start + rows_here:,} chunks loaded, {copied / elapsed:,.0f} rows/s", flush=True)
        index_started = time.perf_counter()
        cursor.execute("CREATE INDEX IF NOT EXISTS chunk_patient ON charts_chunk (patient_id)")
        cursor.execute("CREATE INDEX IF NOT EXISTS chunk_tsv ON charts_chunk USING gin (tsv)")
        for statement in meta["fks"]:
            cursor.execute(statement)
        cursor.execute("VACUUM (ANALYZE) charts_chunk")
        meta.update(complete=True, fks=[])
        _meta_save(cursor, meta)
        print(f"  indexes + vacuum analyze {time.perf_counter() - index_started:.1f} s", flush=True)
    print(
        f"load: {chunks:,} chunks ({dtype}, {partitions or 'no'} partitions) in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def _measure(cursor, args, patients, queries, query_texts, scope_of, truth):
    from retrieval.search import patient_hybrid_search, patient_text_search, patient_vector_search
    from retrieval.types import AccessScope

    timings: dict[str, list[float]] = {
        "vector": [],
        "vector (unrestricted scope)": [],
        "text": [],
        "hybrid": [],
        "hybrid + recency (90 d)": [],
    }
    recalls: dict[str, list[float]] = {name: [] for name in truth}
    unrestricted = AccessScope(unrestricted=True)
    for i, (patient, query) in enumerate(zip(patients.tolist(), queries)):
        scope = scope_of(patient)
        text = query_texts[i]
        runs = [
            (
                "vector",
                lambda: patient_vector_search(cursor, patient_id=patient, query_vector=query, k=args.k, scope=scope),
            ),
            (
                "vector (unrestricted scope)",
                lambda: patient_vector_search(
                    cursor, patient_id=patient, query_vector=query, k=args.k, scope=unrestricted
                ),
            ),
            ("text", lambda: patient_text_search(cursor, patient_id=patient, query_text=text, k=args.k, scope=scope)),
            (
                "hybrid",
                lambda: patient_hybrid_search(
                    cursor, patient_id=patient, query_text=text, query_vector=query, k=args.k, scope=scope
                ),
            ),
            (
                "hybrid + recency (90 d)",
                lambda: patient_hybrid_search(
                    cursor,
                    patient_id=patient,
                    query_text=text,
                    query_vector=query,
                    k=args.k,
                    scope=scope,
                    recency_half_life_days=90,
                ),
            ),
        ]
        # Rotate which search meets the patient's pages first, so no method always pays the reads.
        shift = i % len(runs)
        for name, run in runs[shift:] + runs[:shift]:
            started = time.perf_counter()
            result = run()
            timings[name].append(time.perf_counter() - started)
            if name == "vector":
                hits = {h.chunk_id for h in result}
        for name, best in truth.items():
            recalls[name].append(len(set(best[i]) & hits) / args.k)
    return timings, recalls


def _truth(args, patients: np.ndarray, queries: np.ndarray) -> tuple[dict[str, list[list[int]]], np.ndarray]:
    """The exact top-k chunk ids of each query by numpy brute force over its patient's vectors,
    in float32 (the encoder's output) and over the same vectors rounded to float16 (what a halfvec
    column holds). The vectors are regenerated batch by batch from the seed and only the queried
    patients' rows kept, so 10M chunks never sit in memory at once. Also returns each query's
    float32 cosine gap between its k-th and (k+1)-th chunk: how near a tie a miss was."""
    notes = args.patients * NOTES_PER_PATIENT
    per_note = args.chunks // notes
    note_patient, _, _ = _plan(seed=args.seed, patients=args.patients, per_note=per_note, n_texts=1)
    wanted = np.unique(patients)
    ids, owners, kept = [], [], []
    for b, start in enumerate(range(0, args.chunks, args.batch)):
        rows = np.arange(start, min(start + args.batch, args.chunks))
        row_patient = note_patient[rows // per_note]
        mask = np.isin(row_patient, wanted)
        kept.append(_vectors(args.seed, b, len(rows), args.dim)[mask])
        ids.append(rows[mask] + 1)  # chunk ids are row + 1
        owners.append(row_patient[mask])
    vectors, chunk_ids, owner = np.concatenate(kept), np.concatenate(ids), np.concatenate(owners)
    truth: dict[str, list[list[int]]] = {"float32": [], "float16": []}
    gaps = []
    for patient, query in zip(patients.tolist(), queries):
        mine = owner == patient
        for name, dtype in (("float32", np.float32), ("float16", np.float16)):
            v, q = vectors[mine].astype(dtype).astype(np.float32), query.astype(dtype).astype(np.float32)
            scores = (v @ q) / (np.linalg.norm(v, axis=1) * np.linalg.norm(q))
            ranked = np.argsort(-scores, kind="stable")
            truth[name].append(chunk_ids[mine][ranked[: args.k]].tolist())
            if name == "float32" and len(ranked) > args.k:
                gaps.append(scores[ranked[args.k - 1]] - scores[ranked[args.k]])
            elif name == "float32":
                gaps.append(np.inf)
    return truth, np.array(gaps)


# The chunk table and, when partitioned, its partitions (pg_partition_tree is empty for a plain table).
_CHUNK_RELATIONS = (
    "(SELECT 'charts_chunk'::regclass AS relid UNION SELECT relid FROM pg_partition_tree('charts_chunk'))"
)


def _sizes(cursor, chunks: int) -> str:
    cursor.execute(
        "SELECT sum(pg_relation_size(t.relid)), sum(coalesce(pg_relation_size(nullif(c.reltoastrelid, 0)), 0)),"
        f" sum(pg_indexes_size(t.relid)) FROM {_CHUNK_RELATIONS} t JOIN pg_class c ON c.oid = t.relid"
    )
    heap, toast, indexes = (int(x) / 2**20 for x in cursor.fetchone())
    cursor.execute(
        f"SELECT sum(pg_relation_size(i.indexrelid)) FROM {_CHUNK_RELATIONS} t"
        " JOIN pg_index i ON i.indrelid = t.relid JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relname = 'chunk_patient' OR c.relname LIKE 'charts_chunk_p%_patient_id_idx'"
    )
    patient_index = int(cursor.fetchone()[0] or 0) / 2**20
    per_million = 1e6 / chunks
    return (
        f"heap {heap:,.0f} MB, TOAST {toast:,.0f} MB, indexes {indexes:,.0f} MB"
        f" (patient b-tree {patient_index:,.1f} MB);"
        f" per million chunks: heap {heap * per_million:,.0f} MB, indexes {indexes * per_million:,.0f} MB,"
        f" total {(heap + toast + indexes) * per_million:,.0f} MB"
    )


def _csv(kind):
    def parse(value: str):
        return [kind(v) for v in value.split(",") if v.strip()]

    return parse


def _page_cache_drop() -> None:
    """Write dirty pages out and drop the kernel's page cache (clean pages only; nothing is lost)."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
    except OSError as exc:
        raise SystemExit(f"--cold needs Linux and root to drop the page cache: {exc.strerror}") from exc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench retrieval")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=50_000, help="chunks per COPY")
    parser.add_argument(
        "--dtype",
        type=_csv(str),
        default=["halfvec"],
        help="embedding column types to load and measure in turn, e.g. vector,halfvec (default: halfvec, the schema)",
    )
    parser.add_argument(
        "--partitions",
        type=_csv(int),
        default=[0],
        help="hash partitions of the chunk table by patient to measure in turn, e.g. 0,16 (0: unpartitioned)",
    )
    parser.add_argument("--reuse", action="store_true", help="keep an earlier load with the same parameters")
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted load with the same parameters where it stopped"
    )
    parser.add_argument("--load-only", action="store_true", help="load (or resume), then stop before the queries")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="before the queries, rewrite the chunk table in patient order (manage.py cluster_chunks)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="drop the OS page cache before the first pass, so first searches read from disk (Linux, root)",
    )
    parser.add_argument(
        "--shared-buffers",
        default="1GB",
        help="PostgreSQL shared_buffers of the bench cluster (PostgreSQL's default is 128MB)",
    )
    args = parser.parse_args(argv)
    if args.chunks % (args.patients * NOTES_PER_PATIENT):
        parser.error(f"--chunks must be a multiple of {NOTES_PER_PATIENT} x --patients")
    if bad := [d for d in args.dtype if d not in ("vector", "halfvec")]:
        parser.error(f"--dtype: vector or halfvec, not {bad}")
    variants = [(d, p) for d in args.dtype for p in args.partitions]
    if (args.reuse or args.resume) and len(variants) > 1:
        parser.error("--reuse and --resume keep one load: give one --dtype and one --partitions")

    bench_setup("clinsum_bench_1m", shared_buffers=args.shared_buffers)
    from django.db import connection

    import retrieval.store
    from clinsum.db.roles import as_owner
    from retrieval.search import patient_vector_search
    from retrieval.types import AccessScope

    print(f"machine: {machine()}")
    params = {"patients": args.patients, "chunks": args.chunks, "dim": args.dim, "seed": args.seed, "batch": args.batch}
    texts = _chunk_texts()

    rng = np.random.default_rng(args.seed + 1)
    patients = rng.integers(1, args.patients + 1, size=args.queries)
    queries = rng.standard_normal((args.queries, args.dim), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    words = [t.split()[rng.integers(0, len(t.split()))].strip(".,:;()") for t in rng.choice(texts, 2 * args.queries)]
    query_texts = [f"{words[2 * i]} {words[2 * i + 1]}" for i in range(args.queries)]
    truth_started = time.perf_counter()
    truth, gaps = _truth(args, patients, queries)
    print(
        f"brute force (float32 and float16) for {args.queries} queries in {time.perf_counter() - truth_started:.1f} s"
    )

    def scope_of(patient_id: int) -> AccessScope:  # a clinician on the patient's unit
        return AccessScope(units=(f"U{(patient_id - 1) % UNITS:02d}",), user_id=1)

    for dtype, partitions in variants:
        print(f"== embedding {dtype}, {f'{partitions} hash partitions by patient' if partitions else 'unpartitioned'}")
        with as_owner(), connection.cursor() as cursor:  # bench_meta is the owner's
            meta = _meta(cursor) or {}
        layout = {"dtype": dtype, "partitions": partitions}
        if args.reuse and meta.get("params") == params and meta.get("layout") == layout and meta.get("complete"):
            print("reusing the loaded database")
        else:
            load(texts=texts, dtype=dtype, partitions=partitions, resume=args.resume, **params)
        if args.load_only:
            continue
        if args.cluster:
            from django.core.management import call_command

            call_command("cluster_chunks")
        retrieval.store.EMBEDDING_TYPE = dtype  # what the search casts the query vector to
        # The queries run as the app role, as in production (load() switched to the owner and back).
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_setting('shared_buffers')")
            user, shared_buffers = cursor.fetchone()
            print(f"chunk table: {_sizes(cursor, args.chunks)}; shared_buffers {shared_buffers}; queries as {user}")
            for i in range(min(50, args.queries)):  # warm-up
                patient_vector_search(
                    cursor,
                    patient_id=int(patients[i]),
                    query_vector=queries[i],
                    k=args.k,
                    scope=scope_of(int(patients[i])),
                )
            cursor.execute(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id FROM charts_chunk c"
                f" WHERE c.patient_id = %s ORDER BY c.embedding <=> %s::{dtype} LIMIT 10",
                [int(patients[0]), "[" + ",".join(map(str, queries[0])) + "]"],
            )
            plan = [r[0].strip() for r in cursor.fetchall()]
            print("plan: " + " | ".join(line.split("  (")[0][:60] for line in plan if "Scan" in line or "Time" in line))
            first = "first pass (each patient's pages read from the OS cache by the first search)"
            if args.cold:
                _page_cache_drop()
                first = (
                    "first pass, cold (OS page cache dropped: each patient's pages read from disk by the first search)"
                )
            for label in (first, "second pass, same queries (in shared_buffers)"):
                timings, recalls = _measure(cursor, args, patients, queries, query_texts, scope_of, truth)
                print(
                    f"{args.queries} queries, top-{args.k}, {args.chunks // args.patients} chunks per patient, {label}:"
                )
                for name, samples in timings.items():
                    print(f"  {name:<28} {_percentiles(samples)}")
            for name, values in recalls.items():
                print(
                    f"recall@{args.k} of the {dtype} search vs numpy brute force in {name}: mean {np.mean(values):.4f},"
                    f" min {np.min(values):.2f}, queries below 1: {sum(v < 1 for v in values)}"
                )
                missed = gaps[np.array(values) < 1]
                if len(missed):
                    print(
                        f"  float32 cosine gap between the {args.k}th and {args.k + 1}th chunk of those queries:"
                        f" max {missed.max():.2e} (median over all queries {np.median(gaps):.2e})"
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
