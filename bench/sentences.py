"""Sentence splitting for the clinical text layer: medspaCy's PyRuSH against ClinSum's chunker
splitter, on MTSamples chunks: milliseconds per chunk and how often both end a sentence at the
same place.

    python -m bench sentences [--reports 60]
"""

from __future__ import annotations

import argparse
import logging
import time

from bench.stack import DATA


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=60)
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.WARNING)  # PyFastNER logs every rule miss at INFO on the root logger
    from loguru import logger

    logger.disable("PyRuSH")
    import medspacy

    from retrieval.chunking import chunk_note, sentence_spans

    rush = medspacy.load(enable=["medspacy_pyrush"]).get_pipe("medspacy_pyrush")
    nlp = medspacy.load(enable=["medspacy_pyrush"])
    paths = sorted((DATA / "mtsamples").glob("*.txt"))
    texts = [p.read_text(errors="replace") for p in paths if not p.name.startswith("LICENSE")][: args.reports]
    chunks = [c.text for t in texts for c in chunk_note(t)]
    rush(nlp.make_doc("Warm up. Yes."))

    started = time.perf_counter()
    ours = [sentence_spans(c) for c in chunks]
    ours_ms = (time.perf_counter() - started) * 1000 / len(chunks)
    started = time.perf_counter()
    theirs = [[(s.start_char, s.end_char) for s in rush(nlp.make_doc(c)).sents] for c in chunks]
    rush_ms = (time.perf_counter() - started) * 1000 / len(chunks)

    same = union = 0
    for text, a, b in zip(chunks, ours, theirs):
        ends_a = {end for _, end in a}
        ends_b = {len(text[:end].rstrip()) for _, end in b}
        same += len(ends_a & ends_b)
        union += len(ends_a | ends_b)
    print(f"{len(chunks)} chunks of {len(texts)} MTSamples reports")
    print(
        f"chunker splitter: {ours_ms:.3f} ms per chunk; PyRuSH: {rush_ms:.3f} ms per chunk ({rush_ms / ours_ms:.0f}x)"
    )
    print(f"agreement on sentence ends (Jaccard): {same / union:.3f}")
    return 0
