"""Every CPU encoding of all-MiniLM-L6-v2 within reach, on the same MTSamples chunks (issue 19, item 3).

    .venv/bin/python -m bench encoder_variants      # 1,500 chunks, blocks of 250, about 10 minutes

Variants (the packaged model's local weights, no network; ONNX exports go to a temporary folder):

- torch-fp32: sentence-transformers on PyTorch fp32, as SentenceTransformerEmbedder does it (reference);
- torch-bf16-autocast: the same under `torch.autocast("cpu", bfloat16)` (oneDNN, AMX where the CPU has it);
- torch-mkldnn-bf16: fp32 model, `torch.backends.mkldnn.matmul.fp32_precision = "bf16"`;
- torch-bf16: the model's weights cast to bfloat16;
- ort-fp32: the fused ONNX graph of EMBEDDING_BACKEND=onnx-int8, not quantized;
- ort-int8: EMBEDDING_BACKEND=onnx-int8 as shipped (dynamic int8, per-channel weights);
- ort-int8-partial: the same, with the attention (Q/K/V) and FFN-output MatMuls of every layer left in
  fp32 (the best of the exclusion sets tried: bench/README.md);
- ort-int8-static: static QDQ int8 (per-channel weights, activation scales calibrated on 128 chunks).

Each variant encodes the same texts, block by block, the variants' order rotating per block, so
load on a shared machine falls on all of them. Agreement: recall@10 of each chunk's 10 nearest
other chunks against torch-fp32's. Batch dependence: cosine of a text encoded alone against the
same text encoded within a batch of 64.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.stack import DATA, machine

VARIANTS = (
    "torch-fp32",
    "torch-bf16-autocast",
    "torch-mkldnn-bf16",
    "torch-bf16",
    "ort-fp32",
    "ort-int8",
    "ort-int8-partial",
    "ort-int8-static",
)
TARGET_SPEED, TARGET_AGREEMENT = 2.5, 0.99
# Left in fp32 by ort-int8-partial: the fused Q/K/V projection and the FFN output of every layer.
PARTIAL_EXCLUDE = [f"Attention_{n}" for n in range(6)] + [
    f"/inner/encoder/layer.{n}/output/dense/MatMul" for n in range(6)
]


def chunk_texts(count: int, max_words: int) -> list[str]:
    """The first `count` chunks of the MTSamples reports in name order, chunked as ingest does."""
    from retrieval.chunking import chunk_note

    texts: list[str] = []
    for path in sorted((DATA / "mtsamples").glob("*.txt")):
        texts += [c.text for c in chunk_note(path.read_text(errors="replace"), max_words=max_words)]
        if len(texts) >= count:
            break
    return texts[:count]


class TorchVariant:
    def __init__(self, path: Path, mode: str, batch_size: int):
        import torch

        from retrieval.embedding import SentenceTransformerEmbedder

        self.torch, self.mode = torch, mode
        self.inner = SentenceTransformerEmbedder(path, device="cpu", batch_size=batch_size)
        if mode == "torch-bf16":
            self.inner.model.to(torch.bfloat16)

    def encode(self, texts: list[str]) -> np.ndarray:
        torch, model = self.torch, self.inner.model
        kwargs = {"batch_size": self.inner.batch_size, "convert_to_tensor": True, "show_progress_bar": False}
        if self.mode == "torch-bf16-autocast":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                vectors = model.encode(texts, **kwargs)
        elif self.mode == "torch-mkldnn-bf16":
            torch.backends.mkldnn.matmul.fp32_precision = "bf16"
            try:
                vectors = model.encode(texts, **kwargs)
            finally:
                torch.backends.mkldnn.matmul.fp32_precision = "none"
        else:
            vectors = model.encode(texts, **kwargs)
        # Normalised after the cast back to fp32, so bf16 rounding does not leave vectors off unit length.
        return torch.nn.functional.normalize(vectors.float(), dim=1).numpy()


def ort_files(path: Path, work: Path, calibration: list[str]) -> dict[str, Path]:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from transformers import AutoTokenizer

    from retrieval.embedding import _ONNX_INPUTS, onnx_fused_export

    fused = onnx_fused_export(path, work)
    files = {"ort-fp32": fused, "ort-int8": work / "int8.onnx", "ort-int8-partial": work / "partial.onnx"}
    for name, exclude in (("ort-int8", []), ("ort-int8-partial", PARTIAL_EXCLUDE)):
        quantize_dynamic(  # as onnx_int8_export does it, on a CPU with VNNI (cpu_quantization)
            str(fused),
            str(files[name]),
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=exclude,
            extra_options={"DefaultTensorType": 1},
        )
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(
                tokenizer(calibration[i : i + 16], padding=True, truncation=True, max_length=256, return_tensors="np")
                for i in range(0, len(calibration), 16)
            )

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {name: batch[name].astype(np.int64) for name in _ONNX_INPUTS}

    files["ort-int8-static"] = work / "static.onnx"
    quantize_static(
        str(fused),
        str(files["ort-int8-static"]),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Attention"],
        calibrate_method=CalibrationMethod.MinMax,
        extra_options={"DefaultTensorType": 1},
    )
    return files


def ort_variant(path: Path, file: Path, batch_size: int):
    """An OnnxInt8Embedder (the app's encode loop) over another ONNX file."""
    import onnxruntime
    from transformers import AutoTokenizer

    from retrieval.embedding import OnnxInt8Embedder, _mean_pooled_and_normalised

    encoder = OnnxInt8Embedder.__new__(OnnxInt8Embedder)
    encoder.dim, encoder.max_length = _mean_pooled_and_normalised(path)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    encoder.session = onnxruntime.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
    encoder.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    encoder.batch_size = batch_size
    return encoder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench encoder_variants")
    parser.add_argument("--chunks", type=int, default=1500, help="MTSamples chunks encoded by every variant")
    parser.add_argument("--block", type=int, default=250, help="texts per timed block (variants rotate per block)")
    parser.add_argument("--alone", type=int, default=64, help="texts encoded alone for batch dependence")
    parser.add_argument("--max-words", type=int, default=180, help="chunk size, as CHUNK_MAX_WORDS")
    parser.add_argument("--batch-size", type=int, default=64, help="as EMBEDDING_BATCH_SIZE")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="subset; the first is the reference")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bench.encoders import recall_agreement, top_k
    from retrieval.embedding import default_model_path

    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    if not names or any(n not in VARIANTS for n in names):
        raise SystemExit(f"--variants takes a comma-separated list of {', '.join(VARIANTS)}")
    texts = chunk_texts(args.chunks, args.max_words)
    path = default_model_path()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="clinsum-encoder-variants-") as work:
        started = time.perf_counter()
        calibration = [texts[i] for i in np.random.default_rng(7).permutation(len(texts))[:128]]
        files = ort_files(path, Path(work), calibration) if any(n.startswith("ort-") for n in names) else {}
        encoders = {
            name: ort_variant(path, files[name], args.batch_size)
            if name.startswith("ort-")
            else TorchVariant(path, name, args.batch_size)
            for name in names
        }
        print(f"exports and loading: {time.perf_counter() - started:.1f} s")
        for encoder in encoders.values():
            encoder.encode(texts[:64])  # warm-up
        parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
        walls = dict.fromkeys(names, 0.0)
        for number, start in enumerate(range(0, len(texts), args.block)):
            shift = number % len(names)
            for name in names[shift:] + names[:shift]:
                wall = time.perf_counter()
                parts[name].append(encoders[name].encode(texts[start : start + args.block]))
                walls[name] += time.perf_counter() - wall
        vectors = {name: np.concatenate(p) for name, p in parts.items()}
        alone_texts = texts[: args.alone]
        alone = {name: np.concatenate([encoders[name].encode([t]) for t in alone_texts]) for name in names}
        batched = {name: encoders[name].encode(alone_texts) for name in names}
    reference = names[0]
    neighbours = {name: top_k(v, v, 10, exclude_self=True) for name, v in vectors.items()}
    print(
        f"{len(texts)} MTSamples chunks, blocks of {args.block}, batch size {args.batch_size}; "
        f"agreement = recall@10 of each chunk's 10 nearest other chunks against {reference}'s; "
        f"batch dependence = cosine, a text alone vs in a batch of {len(alone_texts)}"
    )
    print(
        "| variant | chunks/s | ratio | agreement | cosine to ref min / mean | batch dependence min | misses |\n"
        "| --- | --- | --- | --- | --- | --- | --- |"
    )
    for name in names:
        speed, ratio = len(texts) / walls[name], walls[reference] / walls[name]
        agreement = recall_agreement(neighbours[reference], neighbours[name])
        cosine = (vectors[reference] * vectors[name]).sum(1)
        dependence = (alone[name] * batched[name]).sum(1).min()
        misses = [
            label
            for label, missed in (
                (f"speed < {TARGET_SPEED}x", ratio < TARGET_SPEED),
                (f"agreement < {TARGET_AGREEMENT}", agreement < TARGET_AGREEMENT),
            )
            if missed
        ]
        print(
            f"| {name} | {speed:.1f} | {ratio:.2f}x | {agreement:.4f} | {cosine.min():.5f} / {cosine.mean():.5f} "
            f"| {dependence:.5f} | {'reference' if name == reference else ', '.join(misses) or 'none: meets both'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
