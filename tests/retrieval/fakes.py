"""A stand-in for the embedding model where a test is about plumbing, not meaning: a unit
vector per text, the same text always giving the same vector. Loads in no time."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class FakeEmbedder:
    def __init__(self, name: str = "fake-embedder", dim: int = 8):
        self.name = name
        self.dim = dim
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(f"{self.name}:{text}".encode()).digest()[:8], "big")
            vector = np.random.default_rng(seed).standard_normal(self.dim)
            rows.append(vector / np.linalg.norm(vector))
        return np.array(rows, dtype=np.float32).reshape(len(rows), self.dim)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)
