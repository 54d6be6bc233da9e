"""Grounding benchmark: how well the verifier tells supported claims from planted unsupported ones.

    .venv/bin/python -m bench.grounding [--per-kind 400] [--seed 11]

Builds a labelled set from the demo ward (clinsum.charts.demo) and ../shared/data (MTSamples,
nursing notes): supported claims are sentences of a chunk cited with their own words (verbatim,
without the section label, or the first clause); unsupported claims are planted by changing a
number, a unit, negation, laterality, swapping a drug, citing a quote from a different note, or
citing a chunk of a different patient. Prints precision and recall of "unsupported" (partly
supported counts as flagged: it is never shown as verified). No database, no model.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinsum.settings")

import django  # noqa: E402

django.setup()

from clinsum.charts.demo import demo_ward_generate  # noqa: E402
from clinsum.summaries.backends import GeneratedCitation, GeneratedClaim  # noqa: E402
from clinsum.summaries.verification import SUPPORTED, claim_verify  # noqa: E402
from retrieval.chunking import chunk_note, sentence_spans  # noqa: E402
from retrieval.types import Hit  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DRUGS = ["furosemide", "metoprolol", "lisinopril", "vancomycin", "ceftriaxone", "heparin", "enoxaparin",
         "pantoprazole", "insulin", "aspirin", "atorvastatin", "amlodipine", "prednisone", "warfarin",
         "apixaban", "azithromycin", "levofloxacin", "omeprazole", "digoxin", "diltiazem", "albuterol"]
UNIT_SWAPS = {"mg": "mcg", "mcg": "mg", "mL": "L", "units": "mg", "mmol/L": "mg/dL", "mg/dL": "mmol/L", "g": "mg"}
_LABEL = re.compile(r"^\s*(?:[-*\u2022]\s*|\d{1,2}[.)]\s*)?(?:[A-Z][A-Za-z /&]{0,40}:\s*)?")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]*\d)")


@dataclass
class Case:
    kind: str
    planted: bool  # True: the claim is not supported by what it cites
    claim: GeneratedClaim
    sources: dict[str, Hit]
    patient_id: int


def corpus(limit_mtsamples: int, limit_nursing: int) -> list[tuple[int, str]]:
    """(patient id, note text): demo ward patients, one MTSamples report per patient, nursing charts."""
    notes: list[tuple[int, str]] = []
    ward = demo_ward_generate(seed=3, n_patients=20)
    ids = {p.mrn: i + 1 for i, p in enumerate(ward.patients)}
    notes += [(ids[n.mrn], n.text) for n in ward.notes]
    for index, path in enumerate(sorted((DATA / "mtsamples").glob("*.txt"))[:limit_mtsamples]):
        notes.append((1000 + index, path.read_text(errors="replace")))
    raw = (DATA / "nursing-notes" / "nursing-notes.txt").read_text(errors="replace")
    records = re.findall(r"START_OF_RECORD=(\d+)\|\|\|\|\d+\|\|\|\|\n(.*?)\n\|\|\|\|END_OF_RECORD", raw, re.S)
    notes += [(5000 + int(p), text) for p, text in records[:limit_nursing]]
    return notes


def sentences(notes: list[tuple[int, str]]) -> list[tuple[Hit, int, int]]:
    """Every sentence of 5+ words as (chunk hit, start, end) offsets in the chunk."""
    found = []
    chunk_id = 0
    for note_id, (patient_id, text) in enumerate(notes, start=1):
        for chunk in chunk_note(text):
            chunk_id += 1
            hit = Hit(chunk_id=chunk_id, note_id=note_id, patient_id=patient_id, ordinal=chunk.ordinal,
                      char_start=chunk.char_start, char_end=chunk.char_end, section=chunk.section,
                      text=chunk.text, score=1.0)
            for start, end in sentence_spans(chunk.text):
                if len(chunk.text[start:end].split()) >= 5:
                    found.append((hit, start, end))
    return found


def _one(kind, planted, text, hit, quote, *, sources=None, patient_id=None):
    claim = GeneratedClaim("bench", " ".join(text.split()), (GeneratedCitation("S1", quote),))
    return Case(kind, planted, claim, sources or {"S1": hit}, patient_id or hit.patient_id)


def mutate(kind: str, sentence: str, rng: random.Random) -> str | None:
    """The sentence changed so that it no longer says what the source says; None if not applicable."""
    if kind == "number":
        numbers = _NUMBER.findall(sentence)
        if not numbers:
            return None
        old = rng.choice(numbers)
        new = str(int(float(old)) * 2 + 1) if "." not in old else f"{float(old) * 2 + 0.3:.1f}"
        return re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w.]*\d)", new, sentence, count=1)
    if kind == "unit":
        for unit, swap in UNIT_SWAPS.items():
            pattern = rf"(?<=\d )({re.escape(unit)})(?![A-Za-z/])|(?<=\d)({re.escape(unit)})(?![A-Za-z/])"
            if re.search(pattern, sentence):
                return re.sub(pattern, swap, sentence, count=1)
        return None
    if kind == "negation":
        for pattern, replacement in ((r"\b[Dd]enies\b", "Reports"), (r"\b[Nn]o\s+", ""), (r"\bnot\s+", ""),
                                     (r"\b[Nn]egative\b", "positive"), (r"\bwithout\b", "with")):
            if re.search(pattern, sentence):
                return re.sub(pattern, replacement, sentence, count=1)
        return None
    if kind == "laterality":
        swap = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}
        if re.search(r"\b(left|right|Left|Right)\b", sentence):
            return re.sub(r"\b(left|right|Left|Right)\b", lambda m: swap[m.group(1)], sentence, count=1)
        return None
    if kind == "drug_swap":
        present = [d for d in DRUGS if re.search(rf"\b{d}\b", sentence, re.I)]
        if not present:
            return None
        old = present[0]
        new = rng.choice([d for d in DRUGS if d != old and not re.search(rf"\b{d}\b", sentence, re.I)])
        return re.sub(rf"\b{old}\b", new, sentence, count=1, flags=re.I)
    raise ValueError(kind)


def build(pool: list[tuple[Hit, int, int]], per_kind: int, rng: random.Random) -> list[Case]:
    cases: list[Case] = []
    counts: Counter = Counter()
    order = pool[:]
    rng.shuffle(order)
    by_patient: dict[int, list[tuple[Hit, int, int]]] = defaultdict(list)
    for item in pool:
        by_patient[item[0].patient_id].append(item)
    patients = list(by_patient)
    for hit, start, end in order:
        sentence = hit.text[start:end]
        quote = sentence
        if counts["verbatim"] < per_kind:
            cases.append(_one("verbatim", False, sentence, hit, quote)); counts["verbatim"] += 1
        stripped = sentence[_LABEL.match(sentence).end():]
        if stripped != sentence and len(stripped.split()) >= 4 and counts["label_stripped"] < per_kind:
            cases.append(_one("label_stripped", False, stripped, hit, quote)); counts["label_stripped"] += 1
        clause = re.split(r"[;,]\s", stripped, maxsplit=1)[0]
        if clause != stripped and len(clause.split()) >= 4 and counts["first_clause"] < per_kind:
            cases.append(_one("first_clause", False, clause, hit, clause)); counts["first_clause"] += 1
        for kind in ("number", "unit", "negation", "laterality", "drug_swap"):
            if counts[kind] >= per_kind:
                continue
            changed = mutate(kind, sentence, rng)
            if changed and " ".join(changed.split()) != " ".join(sentence.split()):
                cases.append(_one(kind, True, changed, hit, quote)); counts[kind] += 1
        if counts["other_note_quote"] < per_kind:
            other_hit, other_start, other_end = rng.choice(pool)
            other = other_hit.text[other_start:other_end]
            if other_hit.note_id != hit.note_id and other not in hit.text:
                cases.append(_one("other_note_quote", True, other, hit, other)); counts["other_note_quote"] += 1
        if counts["other_patient_chunk"] < per_kind:
            other_patient = rng.choice(patients)
            if other_patient != hit.patient_id:
                cases.append(_one("other_patient_chunk", True, sentence, hit, quote, patient_id=other_patient))
                counts["other_patient_chunk"] += 1
        if all(counts[k] >= per_kind for k in ("verbatim", "number", "negation", "other_note_quote")) \
                and sum(counts.values()) >= per_kind * 9:
            break
    return cases


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=400)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--mtsamples", type=int, default=400)
    parser.add_argument("--nursing", type=int, default=600)
    args = parser.parse_args(argv)
    if not (DATA / "mtsamples").is_dir():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    started = time.monotonic()
    pool = sentences(corpus(args.mtsamples, args.nursing))
    cases = build(pool, args.per_kind, rng)
    flagged_by_kind: Counter = Counter()
    total_by_kind: Counter = Counter()
    tp = fp = fn = tn = 0
    misses: dict[str, list[str]] = defaultdict(list)
    for case in cases:
        verdict = claim_verify(claim=case.claim, sources=case.sources, patient_id=case.patient_id).verdict
        flagged = verdict != SUPPORTED
        total_by_kind[case.kind] += 1
        flagged_by_kind[case.kind] += flagged
        if case.planted and flagged:
            tp += 1
        elif case.planted:
            fn += 1
            misses[case.kind].append(case.claim.text[:100])
        elif flagged:
            fp += 1
            misses[case.kind].append(case.claim.text[:100])
        else:
            tn += 1
    seconds = time.monotonic() - started
    print(f"grounding benchmark: {len(cases)} claims from {len(pool)} sentences, {seconds:.1f} s")
    print(f"{'kind':<22}{'claims':>8}{'flagged':>9}")
    for kind in sorted(total_by_kind):
        print(f"{kind:<22}{total_by_kind[kind]:>8}{flagged_by_kind[kind]:>9}")
    recall = tp / (tp + fn) if tp + fn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    false_alarm = fp / (fp + tn) if fp + tn else 0.0
    print(f"unsupported: recall {recall:.3f} (target >= 0.97), precision {precision:.3f}, "
          f"false alarms on supported claims {false_alarm:.3f} (target <= 0.05)")
    for kind, examples in sorted(misses.items()):
        print(f"  e.g. missed/false alarm [{kind}]: {examples[0]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
