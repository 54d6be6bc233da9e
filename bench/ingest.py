"""Ingest throughput, end to end, against the encoder alone on the same texts.

    .venv/bin/python -m bench ingest [--notes 300] [--batch 32]

Reads N MTSamples files (sorted by name), stores them through the real path
(parse_text_file -> services.notes_ingest -> indexing.notes_index in batches of --batch notes,
inline, no worker) and times it; then times `SentenceTransformer.encode` alone on exactly the
chunk texts the pipeline embedded, with the same batch size. Prints both and their ratio
(pipeline chunks/s over encoder chunks/s; the target is >= 0.9).

The 2-core machine is shared and single timings of the same encode wander by tens of percent,
so the encoder-alone runs are interleaved with the pipeline, batch by batch (each pipeline
batch is followed by the encoder on that batch's texts), and the ratio of the sums is printed
(also in process CPU time). Then the pipeline (notes_index again over the same notes) and one
single encode call over all the texts alternate for --rounds rounds, and the medians compare.

    .venv/bin/python -m bench ingest --encoder torch,onnx-int8 [--rounds 2]

compares encoders instead, on the same cores in one run: every batch of notes goes through
notes_index with each encoder in turn (who goes first alternates), for --rounds rounds; prints
chunks/s of each and the ratio to the first, and, on the vectors of all the chunks, how far each
encoder's 10 nearest chunk neighbours agree with the first encoder's (recall@10).
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.stack import DATA, bench_setup, charts_reset, machine


def _files_ingest(files):
    """Each MTSamples file as one note of its own patient (BENCH-00000, ...), stored and queued
    for nothing: the caller indexes. Returns notes_ingest's result."""
    from django.utils import timezone

    from clinsum.charts.ingest import parse_text_file
    from clinsum.charts.records import PatientRecord
    from clinsum.charts.services import notes_ingest

    now = timezone.now()
    notes, patients = [], []
    for index, path in enumerate(files):
        mrn = f"BENCH-{index:05d}"
        notes.extend(parse_text_file(path, mrn=mrn, note_type="other", author="", authored_at=now).notes)
        patients.append(PatientRecord(mrn=mrn, family_name=path.stem[:120]))
    return notes_ingest(notes=notes, patients=patients, enqueue=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ingest")
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--batch", type=int, default=0, help="notes per notes_index call (default: EMBED_BATCH)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds against one encode call")
    parser.add_argument("--encoder", default="", help="compare encoders side by side, e.g. torch,onnx-int8")
    args = parser.parse_args(argv)
    if args.encoder:
        return _encoders_compare(args)

    bench_setup("clinsum_bench_ingest")
    from django.conf import settings

    from clinsum.charts.indexing import embedder_get, notes_index
    from clinsum.charts.models import Chunk, Note
    from clinsum.charts.services import EMBED_BATCH
    from retrieval.chunking import chunk_note

    batch = args.batch or EMBED_BATCH
    files = sorted((DATA / "mtsamples").glob("*.txt"))[: args.notes]
    embedder = embedder_get()
    # Warm the encoder on full-length text (the first long batches are slow on CPU).
    sample = [c.text for path in files[:20] for c in chunk_note(path.read_text(errors="replace"))][:128]
    embedder.encode(sample)
    print(f"machine: {machine()}")
    print(
        f"model {embedder.name}, dim {embedder.dim}, encode batch size {settings.EMBEDDING_BATCH_SIZE}; "
        f"{len(files)} MTSamples notes, {batch} notes per notes_index call"
    )

    charts_reset()
    wall, cpu = time.perf_counter, time.process_time
    # Time spent inside the encoder while the pipeline runs: the rest is the pipeline's overhead,
    # measured in the same run, so the machine's noise does not enter this share.
    inside = {"seconds": 0.0}
    encode = embedder.encode

    def timed_encode(texts):
        w = wall()
        try:
            return encode(texts)
        finally:
            inside["seconds"] += wall() - w

    embedder.encode = timed_encode
    started = wall()
    result = _files_ingest(files)
    ingest_seconds = wall() - started
    # Each batch goes through notes_index, then the encoder alone gets that batch's chunk texts
    # right away: interleaving keeps both sides under the same load from the rest of the machine.
    pipeline_wall = ingest_seconds
    pipeline_cpu = encoder_wall = encoder_cpu = 0.0
    chunks = 0
    all_texts: list[str] = []
    for start in range(0, len(result.note_ids), batch):
        ids = result.note_ids[start : start + batch]
        w, c = wall(), cpu()
        chunks += notes_index(note_ids=ids)
        pipeline_wall += wall() - w
        pipeline_cpu += cpu() - c
        texts = [
            piece.text
            for note in Note.objects.filter(pk__in=ids).order_by("pk").only("text")
            for piece in chunk_note(note.text, max_words=settings.CHUNK_MAX_WORDS)
        ]
        all_texts.extend(texts)
        w, c = wall(), cpu()
        embedder.model.encode(
            texts,
            batch_size=settings.EMBEDDING_BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        encoder_wall += wall() - w
        encoder_cpu += cpu() - c
    assert chunks == Chunk.objects.count() == len(all_texts)
    in_encoder = inside["seconds"]
    embedder.encode = encode
    # Against one single encode call over every text (the encoder's own best batching): the
    # pipeline (notes_index again over the same notes, same batches; idempotent) and the call
    # alternate for --rounds rounds; medians.
    reindex_walls, single_walls = [], []
    for _ in range(args.rounds):
        w = wall()
        for start in range(0, len(result.note_ids), batch):
            notes_index(note_ids=result.note_ids[start : start + batch])
        reindex_walls.append(wall() - w + ingest_seconds)
        w = wall()
        embedder.model.encode(
            all_texts,
            batch_size=settings.EMBEDDING_BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        single_walls.append(wall() - w)
    single_wall = statistics.median(single_walls)
    repeat_wall = statistics.median(reindex_walls)

    n = result.notes_new
    print(
        f"pipeline: {n} notes, {chunks} chunks in {pipeline_wall:.1f} s (read + ingest service "
        f"{ingest_seconds:.2f} s, chunk + embed + store {pipeline_wall - ingest_seconds:.1f} s)"
    )
    print(f"pipeline throughput:             {n / pipeline_wall:.2f} notes/s, {chunks / pipeline_wall:.1f} chunks/s")
    print(
        f"of which inside SentenceTransformer.encode: {in_encoder:.1f} s; everything else (parse, ingest, "
        f"chunking, COPY, status) {pipeline_wall - in_encoder:.2f} s = "
        f"{(pipeline_wall - in_encoder) / pipeline_wall:.1%}"
    )
    print(f"encoder alone, same batches:     {chunks / encoder_wall:.1f} chunks/s ({encoder_wall:.1f} s)")
    print(
        f"ratio pipeline/encoder, same batches, interleaved: {encoder_wall / pipeline_wall:.3f} wall, "
        f"{encoder_cpu / pipeline_cpu:.3f} in this process's CPU time (target >= 0.9)"
    )
    print(
        f"against one encode call, {args.rounds} alternating rounds: pipeline "
        f"{', '.join(f'{x:.1f}' for x in reindex_walls)} s, encoder {', '.join(f'{x:.1f}' for x in single_walls)} s; "
        f"ratio of medians {single_wall / repeat_wall:.3f} ({chunks / repeat_wall:.1f} vs {chunks / single_wall:.1f} "
        "chunks/s)"
    )
    return 0


def _encoders_compare(args) -> int:
    import numpy as np

    from bench.encoders import encoders_load, encoders_parse, recall_agreement, top_k

    names = encoders_parse(args.encoder)
    bench_setup("clinsum_bench_ingest")
    from django.conf import settings

    from clinsum.charts.indexing import notes_index
    from clinsum.charts.services import EMBED_BATCH
    from retrieval.chunking import chunk_note

    batch = args.batch or EMBED_BATCH
    files = sorted((DATA / "mtsamples").glob("*.txt"))[: args.notes]
    started = time.perf_counter()
    encoders = encoders_load(names)
    print(f"machine: {machine()}")
    print(f"encoders loaded in {time.perf_counter() - started:.1f} s: " + ", ".join(e.name for e in encoders.values()))
    sample = [c.text for path in files[:20] for c in chunk_note(path.read_text(errors="replace"))][:128]
    for encoder in encoders.values():
        encoder.encode(sample)
    charts_reset()
    note_ids = _files_ingest(files).note_ids

    class Recording:
        def __init__(self, inner):
            self.inner, self.name, self.dim, self.vectors = inner, inner.name, inner.dim, []

        def encode(self, texts):
            vectors = self.inner.encode(texts)
            self.vectors.append(vectors)
            return vectors

    walls = dict.fromkeys(names, 0.0)
    chunks = 0
    recorders = {}
    for round_ in range(args.rounds):
        recorders = {name: Recording(encoders[name]) for name in names}
        for number, start in enumerate(range(0, len(note_ids), batch)):
            ids = note_ids[start : start + batch]
            order = names if (number + round_) % 2 == 0 else names[::-1]
            for name in order:
                w = time.perf_counter()
                written = notes_index(note_ids=ids, embedder=recorders[name])
                walls[name] += time.perf_counter() - w
            chunks += written
    print(
        f"{len(note_ids)} MTSamples notes, {chunks // args.rounds} chunks, {batch} notes per notes_index call, "
        f"encode batch size {settings.EMBEDDING_BATCH_SIZE}, {args.rounds} rounds, encoders alternating per batch"
    )
    first = names[0]
    for name in names:
        rate = chunks / walls[name]
        print(
            f"  {name:<10} pipeline {rate:6.1f} chunks/s ({walls[name]:.1f} s)   "
            f"ratio to {first}: {walls[first] / walls[name]:.2f}x"
        )
    vectors = {name: np.concatenate(recorders[name].vectors) for name in names}
    neighbours = {name: top_k(v, v, 10, exclude_self=True) for name, v in vectors.items()}
    for name in names[1:]:
        cosines = (vectors[name] * vectors[first]).sum(axis=1)
        print(
            f"  {name} vs {first} on {len(cosines)} chunks: cosine min {cosines.min():.4f} mean {cosines.mean():.4f}; "
            f"chunk-neighbour recall@10 {recall_agreement(neighbours[first], neighbours[name]):.4f} (target >= 0.99)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
