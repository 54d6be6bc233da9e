"""Two encoders side by side (`--encoder torch,onnx-int8` of bench ingest and bench known_item):
loading both on this CPU, and how far the second one's neighbours agree with the first's."""

from __future__ import annotations

import numpy as np


def encoders_parse(value: str) -> list[str]:
    from retrieval.embedding import BACKENDS

    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in BACKENDS]
    if not names or unknown:
        raise SystemExit(f"--encoder takes a comma-separated list of {', '.join(BACKENDS)}")
    return names


def encoders_load(names: list[str]) -> dict:
    """Each encoder on the CPU (a GPU worker keeps torch fp16, so the CPU is what is compared)."""
    from django.conf import settings

    from retrieval.embedding import embedder_load

    return {
        name: embedder_load(
            path=settings.EMBEDDING_MODEL_PATH or None,
            device="cpu",
            batch_size=settings.EMBEDDING_BATCH_SIZE,
            backend=name,
            cache_dir=settings.EMBEDDING_CACHE_DIR,
        )
        for name in names
    }


def top_k(queries: np.ndarray, corpus: np.ndarray, k: int, *, exclude_self: bool = False) -> np.ndarray:
    """Indices of each query's k nearest corpus rows by cosine (unit vectors), in blocks."""
    out = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), 1024):
        sims = queries[start : start + 1024] @ corpus.T
        if exclude_self:
            rows = np.arange(sims.shape[0])
            sims[rows, rows + start] = -np.inf
        part = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
        out[start : start + 1024] = np.take_along_axis(part, order, axis=1)
    return out


def recall_agreement(reference: np.ndarray, other: np.ndarray) -> float:
    """Mean share of the reference top-k that the other top-k also returns (recall@k)."""
    k = reference.shape[1]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(reference.tolist(), other.tolist())]))
