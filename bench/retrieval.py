"""Per-patient retrieval at hospital scale: latency and recall.

    .venv/bin/python -m bench retrieval [--patients 10000] [--chunks 1000000] [--queries 1000] [--reuse]

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
"""

from __future__ import annotations

import argparse
import json
import time

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


def load(cursor, *, patients: int, chunks: int, dim: int, seed: int, batch: int, texts: list[str]) -> None:
    from retrieval.store import chunks_copy

    notes = patients * NOTES_PER_PATIENT
    per_note = chunks // notes
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    cursor.execute("DROP TABLE IF EXISTS bench_meta")
    cursor.execute("TRUNCATE charts_chunk, charts_note, charts_patient, charts_careteammember RESTART IDENTITY CASCADE")
    # Bulk-load mode for this database only: no FK triggers per row, indexes built afterwards.
    cursor.execute("SET session_replication_role = replica")
    cursor.execute("DROP INDEX IF EXISTS chunk_patient")
    cursor.execute("DROP INDEX IF EXISTS chunk_tsv")
    with cursor.copy(
        "COPY charts_patient (mrn, family_name, given_name, sex, unit, source_id, created_at) FROM STDIN"
    ) as copy:
        for i in range(patients):
            copy.write_row((f"BENCH-{i:06d}", f"Patient{i}", "", "unknown", f"U{i % UNITS:02d}", "", "2026-01-01Z"))
    # Note i (in arrival order) belongs to patient note_patient[i] (ids are 1-based).
    note_patient = rng.permutation(np.repeat(np.arange(1, patients + 1), NOTES_PER_PATIENT))
    days = rng.integers(0, 3 * 365, size=notes)
    with cursor.copy(
        "COPY charts_note (patient_id, note_type, author, author_role, authored_at, title, text,"
        " content_hash, source, source_id, embedding_status, created_at) FROM STDIN"
    ) as copy:
        for i in range(notes):
            copy.write_row(
                (
                    int(note_patient[i]),
                    "progress",
                    "",
                    "",
                    "2023-01-01Z",
                    "",
                    "synthetic",
                    f"{i:064x}",
                    "bench",
                    "",
                    "done",
                    "2026-01-01Z",
                )
            )
    cursor.execute(
        "UPDATE charts_note SET authored_at = authored_at + make_interval(days => d.day)"
        " FROM unnest(%s::int[]) WITH ORDINALITY AS d(day, id) WHERE charts_note.id = d.id",
        [days.tolist()],
    )
    meta_seconds = time.perf_counter() - started
    print(f"  {patients} patients and {notes} notes in {meta_seconds:.1f} s", flush=True)
    text_picks = rng.integers(0, len(texts), size=notes * per_note)
    copied = 0
    copy_started = time.perf_counter()
    for batch_index, start in enumerate(range(0, notes * per_note, batch)):
        rows_here = min(batch, notes * per_note - start)
        vectors = _vectors(seed, batch_index, rows_here, dim)
        rows = []
        for r in range(start, start + rows_here):
            note = r // per_note
            text = texts[text_picks[r]]
            rows.append((note + 1, int(note_patient[note]), r % per_note, 0, len(text), "", text))
        copied += chunks_copy(cursor, rows=rows, vectors=vectors, model_name="bench-random")
        elapsed = time.perf_counter() - copy_started
        print(f"  {copied:,} chunks copied, {copied / elapsed:,.0f} rows/s", flush=True)
    cursor.execute("SET session_replication_role = DEFAULT")
    index_started = time.perf_counter()
    cursor.execute("CREATE INDEX chunk_patient ON charts_chunk (patient_id)")
    cursor.execute("CREATE INDEX chunk_tsv ON charts_chunk USING gin (tsv)")
    cursor.execute("VACUUM (ANALYZE) charts_chunk")
    cursor.execute("VACUUM (ANALYZE) charts_note")
    cursor.execute("VACUUM (ANALYZE) charts_patient")
    print(f"  indexes + vacuum analyze {time.perf_counter() - index_started:.1f} s", flush=True)
    cursor.execute("CREATE TABLE bench_meta (params text)")
    cursor.execute(
        "INSERT INTO bench_meta VALUES (%s)",
        [json.dumps({"patients": patients, "chunks": chunks, "dim": dim, "seed": seed, "batch": batch})],
    )
    print(f"load: {copied:,} chunks in {time.perf_counter() - started:.1f} s", flush=True)


def _measure(cursor, args, patients, queries, query_texts, scope_of, vectors, order, bounds):
    from retrieval.search import patient_hybrid_search, patient_text_search, patient_vector_search
    from retrieval.types import AccessScope

    timings: dict[str, list[float]] = {
        "vector": [],
        "vector (unrestricted scope)": [],
        "text": [],
        "hybrid": [],
        "hybrid + recency (90 d)": [],
    }
    recalls = []
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
                hits = result
        rows = order[bounds[patient - 1] : bounds[patient]]
        scores = vectors[rows] @ query
        best = rows[np.argsort(-scores, kind="stable")[: args.k]] + 1  # chunk ids are row + 1
        recalls.append(len(set(best.tolist()) & {h.chunk_id for h in hits}) / args.k)
    return timings, recalls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench retrieval")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=50_000, help="chunks per COPY")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier load with the same parameters")
    parser.add_argument(
        "--shared-buffers",
        default="1GB",
        help="PostgreSQL shared_buffers of the bench cluster (PostgreSQL's default is 128MB)",
    )
    args = parser.parse_args(argv)
    if args.chunks % (args.patients * NOTES_PER_PATIENT):
        parser.error(f"--chunks must be a multiple of {NOTES_PER_PATIENT} x --patients")

    bench_setup("clinsum_bench_1m", shared_buffers=args.shared_buffers)
    from django.db import connection

    from retrieval.search import patient_vector_search
    from retrieval.types import AccessScope

    print(f"machine: {machine()}")
    params = {"patients": args.patients, "chunks": args.chunks, "dim": args.dim, "seed": args.seed, "batch": args.batch}
    texts = _chunk_texts()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_meta') IS NOT NULL")
        loaded = None
        if cursor.fetchone()[0]:
            cursor.execute("SELECT params FROM bench_meta")
            loaded = json.loads(cursor.fetchone()[0])
        if args.reuse and loaded == params:
            print("reusing the loaded database")
        else:
            load(cursor, texts=texts, **params)
        cursor.execute(
            "SELECT pg_size_pretty(pg_relation_size('charts_chunk')),"
            " pg_size_pretty(pg_relation_size(reltoastrelid)), pg_size_pretty(pg_indexes_size('charts_chunk')),"
            " pg_size_pretty(pg_relation_size('chunk_patient')) FROM pg_class WHERE relname = 'charts_chunk'"
        )
        heap, toast, indexes, patient_index = cursor.fetchone()
        cursor.execute("SHOW shared_buffers")
        print(
            f"chunk table: heap {heap}, TOAST {toast}, indexes {indexes} (patient b-tree {patient_index}); "
            f"shared_buffers {cursor.fetchone()[0]}"
        )

        # The brute-force side: every vector, regenerated from the seed, and each row's patient.
        vectors = np.concatenate(
            [
                _vectors(args.seed, b, min(args.batch, args.chunks - s), args.dim)
                for b, s in enumerate(range(0, args.chunks, args.batch))
            ]
        )
        cursor.execute("SELECT patient_id FROM charts_chunk ORDER BY id")
        row_patient = np.fromiter((r[0] for r in cursor.fetchall()), dtype=np.int64, count=args.chunks)
        order = np.argsort(row_patient, kind="stable")
        bounds = np.searchsorted(row_patient[order], np.arange(1, args.patients + 2))

        rng = np.random.default_rng(args.seed + 1)
        patients = rng.integers(1, args.patients + 1, size=args.queries)
        queries = rng.standard_normal((args.queries, args.dim), dtype=np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        words = [
            t.split()[rng.integers(0, len(t.split()))].strip(".,:;()") for t in rng.choice(texts, 2 * args.queries)
        ]
        query_texts = [f"{words[2 * i]} {words[2 * i + 1]}" for i in range(args.queries)]

        def scope_of(patient_id: int) -> AccessScope:  # a clinician on the patient's unit
            return AccessScope(units=(f"U{(patient_id - 1) % UNITS:02d}",), user_id=1)

        for i in range(min(50, args.queries)):  # warm-up
            patient_vector_search(
                cursor, patient_id=int(patients[i]), query_vector=queries[i], k=args.k, scope=scope_of(int(patients[i]))
            )
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id FROM charts_chunk c"
            " WHERE c.patient_id = %s ORDER BY c.embedding <=> %s::vector LIMIT 10",
            [int(patients[0]), "[" + ",".join(map(str, queries[0])) + "]"],
        )
        plan = [r[0].strip() for r in cursor.fetchall()]
        print("plan: " + " | ".join(line.split("  (")[0][:60] for line in plan if "Scan" in line or "Time" in line))

        for label in (
            "first pass (each patient's pages read from the OS cache by the first search)",
            "second pass, same queries (in shared_buffers)",
        ):
            timings, recalls = _measure(cursor, args, patients, queries, query_texts, scope_of, vectors, order, bounds)
            print(f"{args.queries} queries, top-{args.k}, {args.chunks // args.patients} chunks per patient, {label}:")
            for name, samples in timings.items():
                print(f"  {name:<28} {_percentiles(samples)}")
        print(
            f"recall@{args.k} of the vector search vs numpy brute force: mean {np.mean(recalls):.4f}, "
            f"min {np.min(recalls):.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
