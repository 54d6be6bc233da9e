"""Chunking speed on 200,000-character notes, ordinary and degenerate (the texts the chunking
tests use for correctness), against the raw baseline of splitting the same text on whitespace.

    .venv/bin/python -m bench chunking [--repeat 5]

Prints, per text, the median seconds of chunk_note and of str.split, and the chunk count."""

from __future__ import annotations

import argparse
import statistics
import time

from retrieval.chunking import chunk_note

PARAGRAPH = (
    "HISTORY OF PRESENT ILLNESS: Dr. Smith saw the patient, who takes metoprolol 2.5 mg b.i.d. "
    "and reports chest pain — worse at night.\n- lasix 40 mg\n- potassium 20 mEq\n\n"
    "A: Stable. P: Continue current plan and recheck labs in 2 weeks.\n"
)
TEXTS = {
    "clinical": (PARAGRAPH * (200_000 // len(PARAGRAPH) + 1))[:200_000],
    "no-sentences": ("word " * 40_000)[:200_000],
    "dots": "." * 200_000,
    "dot-space": ". " * 100_000,
    "newlines": "\n" * 200_000,
    "long-blank-run": "AB" + " " * 200_000 + "x",
}


def _median(fn, text: str, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench chunking")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'text':16} {'chars':>8} {'chunks':>7} {'chunk_note s':>13} {'str.split s':>12}")
    for name, text in TEXTS.items():
        ours, chunks = _median(chunk_note, text, args.repeat)
        base, _ = _median(str.split, text, args.repeat)
        print(f"{name:16} {len(text):>8} {len(chunks):>7} {ours:>13.4f} {base:>12.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
