"""Known-item retrieval over all MTSamples: does a report's title find the report?

    .venv/bin/python -m bench known_item [--reuse] [--limit N]

Ingests all 1,684 MTSamples reports under ONE patient (so a per-patient search runs over the
whole corpus, about 17,000 chunks) through the real ingest + notes_index path, in its own
database (clinsum_bench_known). The title never enters the chunks: the query is built from the
file name only ("abscess-with-cellulitis-discharge-summary.txt" -> "abscess with cellulitis
discharge summary"). For each query, vector, full-text and hybrid search return 100 chunks;
their notes, in order of first appearance, are the ranking. Prints recall@1, recall@5 and MRR
per method. --reuse keeps an earlier load (embedding the corpus takes minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import time

from bench.stack import DATA, bench_setup, charts_reset, machine

MRN = "KNOWN-ITEM-1"


def _note_ranking(hits) -> list[int]:
    seen: list[int] = []
    for hit in hits:
        if hit.note_id not in seen:
            seen.append(hit.note_id)
    return seen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench known_item")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier, complete load")
    parser.add_argument("--limit", type=int, default=0, help="only the first N reports (a quick check)")
    parser.add_argument("--chunks", type=int, default=100, help="chunks retrieved per query")
    args = parser.parse_args(argv)

    bench_setup("clinsum_bench_known")
    from django.db import connection
    from django.utils import timezone
    from tqdm import tqdm

    from clinsum.charts.indexing import embedder_get, notes_index
    from clinsum.charts.ingest import parse_text_file
    from clinsum.charts.models import Chunk, EmbeddingStatus, Note, Patient
    from clinsum.charts.records import PatientRecord
    from clinsum.charts.services import note_content_hash, notes_ingest
    from retrieval.search import patient_hybrid_search, patient_text_search, patient_vector_search
    from retrieval.types import AccessScope

    print(f"machine: {machine()}")
    files = sorted((DATA / "mtsamples").glob("*.txt"))
    if args.limit:
        files = files[: args.limit]
    embedder = embedder_get()
    records = [
        parse_text_file(path, mrn=MRN, note_type="other", author="", authored_at=timezone.now()).notes[0]
        for path in files
    ]
    hashes = {note_content_hash(r.text) for r in records}
    complete = Note.objects.filter(patient__mrn=MRN, embedding_status=EmbeddingStatus.DONE).count() == len(
        hashes
    ) and Note.objects.count() == len(hashes)
    if args.reuse and complete:
        print("reusing the loaded corpus")
    else:
        charts_reset()
        started = time.perf_counter()
        result = notes_ingest(notes=records, patients=[PatientRecord(mrn=MRN, family_name="Corpus")], enqueue=False)
        for start in tqdm(range(0, len(result.note_ids), 64), unit="batch", desc="embed"):
            notes_index(note_ids=result.note_ids[start : start + 64])
        print(
            f"loaded {result.notes_new} notes ({result.notes_unchanged} duplicates of another file's text) "
            f"into {Chunk.objects.count()} chunks in {time.perf_counter() - started:.0f} s"
        )
    patient = Patient.objects.get(mrn=MRN)
    note_by_hash = dict(Note.objects.filter(patient=patient).values_list("content_hash", "pk"))
    targets = [note_by_hash[note_content_hash(r.text)] for r in records]
    queries = [path.stem.replace("-", " ").replace("_", " ") for path in files]
    vectors = embedder.encode(queries)
    scope = AccessScope(patient_ids=(patient.pk,))
    n_chunks = Chunk.objects.filter(patient=patient).count()

    methods = {
        "vector": lambda q, v, c: patient_vector_search(
            c, patient_id=patient.pk, query_vector=v, k=args.chunks, scope=scope
        ),
        "text": lambda q, v, c: patient_text_search(c, patient_id=patient.pk, query_text=q, k=args.chunks, scope=scope),
        "hybrid": lambda q, v, c: patient_hybrid_search(
            c, patient_id=patient.pk, query_text=q, query_vector=v, k=args.chunks, scope=scope
        ),
    }
    print(
        f"{len(queries)} title queries over {len(note_by_hash)} notes / {n_chunks} chunks of one patient; "
        f"{args.chunks} chunks retrieved per query"
    )
    with connection.cursor() as cursor:
        for name, search in methods.items():
            at1 = at5 = 0
            reciprocal = 0.0
            started = time.perf_counter()
            for query, vector, target in zip(queries, vectors, targets):
                ranking = _note_ranking(search(query, vector, cursor))
                if ranking[:1] == [target]:
                    at1 += 1
                if target in ranking[:5]:
                    at5 += 1
                if target in ranking:
                    reciprocal += 1 / (ranking.index(target) + 1)
            seconds = time.perf_counter() - started
            n = len(queries)
            print(
                f"  {name:<7} recall@1 {at1 / n:.3f}  recall@5 {at5 / n:.3f}  MRR {reciprocal / n:.3f}  "
                f"({seconds / n * 1000:.1f} ms/query)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
