"""The encoders: the ONNX int8 export of the packaged model against torch, its cache, no network."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from retrieval.embedding import (
    ONNX_INT8_SUFFIX,
    OnnxInt8Embedder,
    SentenceTransformerEmbedder,
    cpu_quantization,
    default_model_path,
    embedder_load,
)

SENTENCES = [
    "Patient admitted with community-acquired pneumonia, started on ceftriaxone and azithromycin.",
    "No chest pain, no shortness of breath.",
    "Metformin 500 mg twice daily was held because of acute kidney injury.",
    "Discharge summary: stable, follow up with cardiology in two weeks.",
    "Blood pressure 142/88, heart rate 96, afebrile.",
]


@pytest.fixture(scope="module")
def offline():
    """HF_HUB_OFFLINE=1, and any connection off this machine fails the test."""
    patch = pytest.MonkeyPatch()
    patch.setenv("HF_HUB_OFFLINE", "1")
    connect = socket.socket.connect
    attempts: list[object] = []

    def local_only(sock, address):
        if sock.family != socket.AF_UNIX and address[0] not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(address)
            raise OSError("network access during an offline test")
        return connect(sock, address)

    patch.setattr(socket.socket, "connect", local_only)
    yield attempts
    patch.undo()
    assert attempts == [], "something tried to reach the network"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def onnx_embedder(offline, cache):
    return embedder_load(backend="onnx-int8", device="cpu", cache_dir=cache)


def test_onnx_int8_gives_normalised_384_d_vectors_close_to_torch(onnx_embedder):
    assert isinstance(onnx_embedder, OnnxInt8Embedder)
    vectors = onnx_embedder.encode(SENTENCES)
    assert vectors.shape == (len(SENTENCES), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    reference = SentenceTransformerEmbedder(default_model_path(), device="cpu").encode(SENTENCES)
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() >= 0.98, cosines
    # Rows come back in input order through the longest-first batching. Not bit for bit: dynamic
    # quantization scales each batch's activations by that batch's range.
    onnx_embedder.batch_size = 2
    assert ((onnx_embedder.encode(SENTENCES) * reference).sum(axis=1) >= 0.98).all()
    onnx_embedder.batch_size = 64
    assert onnx_embedder.encode([]).shape == (0, 384)


def test_the_export_is_cached_and_reused(onnx_embedder, cache):
    assert onnx_embedder.exported
    assert [p.name for p in cache.iterdir()] == [onnx_embedder.file.name]  # no temporary files left
    assert cpu_quantization() in onnx_embedder.file.name
    before = onnx_embedder.file.stat()
    again = embedder_load(backend="onnx-int8", device="cpu", cache_dir=cache)
    assert isinstance(again, OnnxInt8Embedder) and not again.exported
    after = again.file.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert np.allclose(again.encode(SENTENCES[:2]), onnx_embedder.encode(SENTENCES[:2]), atol=1e-6)


def test_int8_chunks_are_stored_under_their_own_model_name(onnx_embedder):
    torch_embedder = embedder_load(backend="torch", device="cpu")
    assert onnx_embedder.name == torch_embedder.name + ONNX_INT8_SUFFIX == "all-MiniLM-L6-v2+onnx-int8"


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        embedder_load(backend="tensorrt", device="cpu")
