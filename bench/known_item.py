"""Known-item retrieval over all MTSamples: does a report's title find the report?

    .venv/bin/python -m bench known_item [--reuse] [--limit N]

Ingests all 1,684 MTSamples reports under ONE patient (so a per-patient search runs over the
whole corpus, about 17,000 chunks) through the real ingest + notes_index path, in its own
database (clinsum_bench_known). The title never enters the chunks: the query is built from the
file name only ("abscess-with-cellulitis-discharge-summary.txt" -> "abscess with cellulitis
discharge summary"). For each query, vector, full-text and hybrid search return 100 chunks;
their notes, in order of first appearance, are the ranking. Prints recall@1, recall@5 and MRR
per method. --reuse keeps an earlier load (embedding the corpus takes minutes on 2 CPU cores).

    .venv/bin/python -m bench known_item --encoder torch,onnx-int8 [--limit N]

compares encoders on the same chunks instead: each encoder embeds every chunk (chunk_note as
notes_index does) and the title queries, alternating in blocks of 64 notes, timed; the vector
search runs exactly in numpy (the per-patient search is exact: recall 1.0 against numpy, bench
retrieval), so no second load is needed. Prints recall@1/@5/MRR of each encoder, the recall@10
agreement of each query's 10 nearest chunks with the first encoder's, and the same for a mixed
store (queries by the second encoder against chunks embedded by the first).
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
    parser.add_argument("--encoder", default="", help="compare encoders side by side, e.g. torch,onnx-int8")
    args = parser.parse_args(argv)
    if args.encoder:
        return _encoders_compare(args)

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


def _encoders_compare(args) -> int:
    import numpy as np

    from bench.encoders import encoders_load, encoders_parse, recall_agreement, top_k

    names = encoders_parse(args.encoder)
    bench_setup("clinsum_bench_known")
    from django.conf import settings

    from retrieval.chunking import chunk_note

    files = sorted((DATA / "mtsamples").glob("*.txt"))
    if args.limit:
        files = files[: args.limit]
    encoders = encoders_load(names)
    print(f"machine: {machine()}")
    texts, owner = [], []
    for index, path in enumerate(files):
        for piece in chunk_note(path.read_text(errors="replace"), max_words=settings.CHUNK_MAX_WORDS):
            texts.append(piece.text)
            owner.append(index)
    owners = np.array(owner)
    queries = [path.stem.replace("-", " ").replace("_", " ") for path in files]
    vectors: dict[str, list] = {name: [] for name in names}
    walls = dict.fromkeys(names, 0.0)
    for encoder in encoders.values():
        encoder.encode(texts[:128])
    bounds = [int(np.searchsorted(owners, i)) for i in range(0, len(files), 64)] + [len(texts)]
    for number, (start, end) in enumerate(zip(bounds, bounds[1:])):
        for name in names if number % 2 == 0 else names[::-1]:
            w = time.perf_counter()
            vectors[name].append(encoders[name].encode(texts[start:end]))
            walls[name] += time.perf_counter() - w
    chunk_vectors = {name: np.concatenate(v) for name, v in vectors.items()}
    query_vectors = {name: encoders[name].encode(queries) for name in names}
    print(
        f"{len(queries)} title queries over {len(files)} notes / {len(texts)} chunks; vector search in numpy, "
        f"{args.chunks} chunks per query; encoders alternating in blocks of 64 notes"
    )

    def known_item(query_vecs, chunk_vecs):
        at1 = at5 = 0
        reciprocal = 0.0
        for target, hits in enumerate(top_k(query_vecs, chunk_vecs, args.chunks)):
            ranking = list(dict.fromkeys(owners[hits].tolist()))
            at1 += ranking[:1] == [target]
            at5 += target in ranking[:5]
            reciprocal += 1 / (ranking.index(target) + 1) if target in ranking else 0.0
        n = len(queries)
        return f"recall@1 {at1 / n:.3f}  recall@5 {at5 / n:.3f}  MRR {reciprocal / n:.3f}"

    first = names[0]
    top10 = {name: top_k(query_vectors[name], chunk_vectors[name], 10) for name in names}
    for name in names:
        print(
            f"  {name:<10} {known_item(query_vectors[name], chunk_vectors[name])}  "
            f"embedding {len(texts) / walls[name]:.1f} chunks/s ({walls[first] / walls[name]:.2f}x {first})"
        )
    for name in names[1:]:
        mixed = top_k(query_vectors[name], chunk_vectors[first], 10)
        print(
            f"  {name} vs {first}: query top-10 chunk recall@10 {recall_agreement(top10[first], top10[name]):.4f}; "
            f"mixed store ({name} queries, {first} chunks) recall@10 {recall_agreement(top10[first], mixed):.4f}, "
            f"{known_item(query_vectors[name], chunk_vectors[first])}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
