"""Grounding benchmark: how well a citation verifier tells supported claims from planted unsupported ones.

    .venv/bin/python -m bench grounding [--per-kind 300] [--kinds verbatim,negation,...] [--show 3]

Builds a labelled set of claims, each citing real text the project did not write: sentences of
../shared/data (MTSamples reports, ICU nursing notes) and of the demo ward (the `demo` package, whose
ground truth gives medication changes). Faithful kinds (verbatim, label_stripped, first_clause,
paraphrases, current_statement) must not be flagged; planted kinds (a number, unit, negation, side,
drug, frequency, status, direction, hedge, family history, plan, time unit, date, added fact, lab values,
a fragment quoted out of context, a stale dose, an injected instruction ...) must be. Anything but
"supported" counts as flagged. Runs the frozen old verifier (bench.baseline.verification_v1) and the
current one (clinsum.summaries.verification) on the same cases and prints them side by side.
No database, no model of ours (the current verifier may load its own NLP pipeline once).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinsum.settings")

import django  # noqa: E402

django.setup()

from bench.baseline import verification_v1  # noqa: E402
from bench.grounding_sets import injection, paraphrase, planted, ward  # noqa: E402
from bench.grounding_sets.text import LABEL, NEGATION, Edit, squash, strip_end  # noqa: E402
from clinsum.summaries.backends import GeneratedCitation, GeneratedClaim  # noqa: E402
from demo import demo_ward_generate  # noqa: E402
from retrieval.chunking import chunk_note, sentence_spans  # noqa: E402
from retrieval.types import Hit  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
MIN_WORDS, MAX_WORDS = 5, 60  # longer "sentences" (run-on nursing notes) are not realistic claims
SHORT_OK = {"family_as_patient", "lab_values_swapped", "quote_out_of_context"}  # "Mother with breast cancer."
DRUGS = [
    "furosemide",
    "metoprolol",
    "lisinopril",
    "vancomycin",
    "ceftriaxone",
    "heparin",
    "enoxaparin",
    "pantoprazole",
    "insulin",
    "aspirin",
    "atorvastatin",
    "amlodipine",
    "prednisone",
    "warfarin",
    "apixaban",
    "azithromycin",
    "levofloxacin",
    "omeprazole",
    "digoxin",
    "diltiazem",
    "albuterol",
]
UNIT_SWAPS = {"mg": "mcg", "mcg": "mg", "mL": "L", "units": "mg", "mmol/L": "mg/dL", "mg/dL": "mmol/L", "g": "mg"}


@dataclass
class Case:
    kind: str
    planted: bool  # True: the claim is not supported by what it cites
    claim: GeneratedClaim
    sources: dict[str, Hit]
    patient_id: int
    detail: str = ""  # variant, or what else is in the sources (for --show)


@dataclass(frozen=True)
class Note:
    note_id: int
    patient_id: int
    text: str
    note_type: str
    authored_at: object = None  # datetime for the demo ward; MTSamples and nursing notes carry none
    origin: str = ""  # ward / mtsamples / nursing


@dataclass(frozen=True)
class Item:
    """One sentence of a chunk; next_end: end of the following sentence of the same chunk, if any."""

    hit: Hit
    start: int
    end: int
    next_start: int | None = None
    next_end: int | None = None

    @property
    def sentence(self) -> str:
        return self.hit.text[self.start : self.end]

    @property
    def next_sentence(self) -> str | None:
        return None if self.next_start is None else self.hit.text[self.next_start : self.next_end]


# --------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------


def _mtsamples_type(name: str) -> str:
    for pattern, note_type in (
        ("discharge", "discharge_summary"),
        ("consult", "consult"),
        (r"(^|-)h-?p|history-and-physical", "history_physical"),
        ("progress", "progress"),
        (r"emergency|(^|-)er-", "emergency"),
    ):
        if re.search(pattern, name):
            return note_type
    return "other"


def corpus(limit_mtsamples: int, limit_nursing: int):
    """Notes of the demo ward (with its ground truth), MTSamples reports and ICU nursing notes."""
    notes: list[Note] = []
    demo = demo_ward_generate(seed=3, n_patients=20)
    ids = {p.mrn: i + 1 for i, p in enumerate(demo.patients)}
    for n in demo.notes:
        notes.append(Note(len(notes) + 1, ids[n.mrn], n.text, n.note_type, n.authored_at, "ward"))
    reports = [p for p in sorted((DATA / "mtsamples").glob("*.txt")) if not p.name.startswith("LICENSE")]
    for index, path in enumerate(reports[: limit_mtsamples or None]):
        notes.append(
            Note(
                len(notes) + 1,
                1000 + index,
                path.read_text(errors="replace"),
                _mtsamples_type(path.stem),
                None,
                "mtsamples",
            )
        )
    raw = (DATA / "nursing-notes" / "nursing-notes.txt").read_text(errors="replace")
    records = re.findall(r"START_OF_RECORD=(\d+)\|\|\|\|\d+\|\|\|\|\n(.*?)\n\|\|\|\|END_OF_RECORD", raw, re.S)
    for patient, text in records[: limit_nursing or None]:
        notes.append(Note(len(notes) + 1, 5000 + int(patient), text, "nursing", None, "nursing"))
    facts = {ids[mrn]: f for mrn, f in demo.facts.items()}
    return notes, facts


class Chunker:
    """Chunks notes into Hits with unique chunk ids."""

    def __init__(self) -> None:
        self.next_id = 0

    def hit(self, note: Note, *, ordinal, char_start, char_end, section, text) -> Hit:
        self.next_id += 1
        return Hit(
            chunk_id=self.next_id,
            note_id=note.note_id,
            patient_id=note.patient_id,
            ordinal=ordinal,
            char_start=char_start,
            char_end=char_end,
            section=section,
            text=text,
            score=1.0,
            note_type=note.note_type,
            authored_at=note.authored_at,
        )

    def hits(self, note: Note) -> list[Hit]:
        return [
            self.hit(
                note, ordinal=c.ordinal, char_start=c.char_start, char_end=c.char_end, section=c.section, text=c.text
            )
            for c in chunk_note(note.text)
        ]


def items_of(hit: Hit) -> list[Item]:
    """Sentences of 3 to MAX_WORDS words, each with the following sentence of the chunk."""
    spans = sentence_spans(hit.text)
    out = []
    for i, (start, end) in enumerate(spans):
        if not 3 <= len(hit.text[start:end].split()) <= MAX_WORDS:
            continue
        nxt = spans[i + 1] if i + 1 < len(spans) else (None, None)
        out.append(Item(hit, start, end, *nxt))
    return out


# --------------------------------------------------------------------------------------
# The old bench's mutations (kept as they were)
# --------------------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]*\d)")


def mutate(kind: str, sentence: str, rng: random.Random) -> Edit | None:
    """The sentence changed so that it no longer says what the source says; None if not applicable."""
    if kind == "number":
        return planted.number_changed(sentence, rng)
    if kind == "unit":
        for unit, swap in UNIT_SWAPS.items():
            pattern = rf"(?<=\d )({re.escape(unit)})(?![A-Za-z/])|(?<=\d)({re.escape(unit)})(?![A-Za-z/])"
            if re.search(pattern, sentence):
                return Edit(re.sub(pattern, swap, sentence, count=1))
        return None
    if kind == "negation":
        return planted.negation_removed(sentence, rng)
    if kind == "laterality":
        return planted.laterality_swapped(sentence, rng)
    if kind == "drug_swap":
        present = [d for d in DRUGS if re.search(rf"\b{d}\b", sentence, re.I)]
        if not present:
            return None
        old = present[0]
        new = rng.choice([d for d in DRUGS if d != old and not re.search(rf"\b{d}\b", sentence, re.I)])
        return Edit(re.sub(rf"\b{old}\b", new, sentence, count=1, flags=re.I))
    raise ValueError(kind)


# --------------------------------------------------------------------------------------
# Kinds: (planted?, function of (item, rng) -> Edit | None) for sentence kinds
# --------------------------------------------------------------------------------------

ItemFn = Callable[[Item, random.Random], Edit | None]


def _lab_swap(item: Item, rng: random.Random) -> Edit | None:
    edit = planted.lab_values_swapped(item.sentence, rng)
    if edit or item.next_sentence is None:
        return edit
    window = item.hit.text[item.start : item.next_end]  # "Heart rate: 72. Respiration: 16."
    edit = planted.lab_values_swapped(window, rng)
    return Edit(edit.claim, (window,)) if edit else None


def _family(item: Item, rng: random.Random) -> Edit | None:
    edit = planted.family_as_patient(item.sentence, rng)
    if edit or item.hit.section != "family_history":
        return edit
    body = strip_end(item.sentence[LABEL.match(item.sentence).end() :])
    body = re.sub(r"^(?:positive|significant|remarkable|notable) for\s+", "", body, flags=re.I)
    finding = planted.finding_of(body)  # a FAMILY HISTORY section line: "Diabetes and hypertension."
    if finding and not NEGATION.search(body) and len(finding.split()) <= 8:
        return Edit(f"History of {finding[:1].lower() + finding[1:] if finding[1:2].islower() else finding}.")
    return None


def _pair(fn) -> ItemFn:
    def build(item: Item, rng: random.Random) -> Edit | None:
        if item.next_sentence is None or len(item.next_sentence.split()) < 3:
            return None
        return fn(item.sentence, item.next_sentence, rng)

    return build


def _merged(first: str, second: str, rng: random.Random) -> Edit:
    return Edit(planted.merge(first, second), (first, second))


def _sentence(fn) -> ItemFn:
    return lambda item, rng: fn(item.sentence, rng)


SENTENCE_KINDS: dict[str, tuple[bool, ItemFn]] = {
    # faithful
    "verbatim": (False, lambda item, rng: Edit(item.sentence)),
    "label_stripped": (False, _sentence(paraphrase.label_stripped)),
    "first_clause": (False, _sentence(paraphrase.first_clause)),
    "number_words": (False, _sentence(paraphrase.number_words)),
    "abbreviations": (False, _sentence(paraphrase.abbreviations)),
    "synonyms": (False, _sentence(paraphrase.synonyms)),
    "reordered_clauses": (False, _sentence(paraphrase.reordered_clauses)),
    "unit_synonyms": (False, _sentence(paraphrase.unit_synonyms)),
    "merged": (False, _pair(_merged)),
    # planted, old bench
    **{
        kind: (True, (lambda k: lambda item, rng: mutate(k, item.sentence, rng))(kind))
        for kind in ("number", "unit", "negation", "laterality", "drug_swap")
    },
    # planted, new
    "frequency_changed": (True, _sentence(planted.frequency_changed)),
    "lab_values_swapped": (True, _lab_swap),
    "status_flipped": (True, _sentence(planted.status_flipped)),
    "direction_flipped": (True, _sentence(planted.direction_flipped)),
    "hedge_dropped": (True, _sentence(planted.hedge_dropped)),
    "family_as_patient": (True, _family),
    "plan_as_done": (True, lambda item, rng: planted.plan_as_done(item.sentence, rng, item.hit.section)),
    "quote_out_of_context": (True, lambda item, rng: planted.quote_out_of_context(item.sentence, item.hit.text, rng)),
    "time_unit_changed": (True, _sentence(planted.time_unit_changed)),
    "date_changed": (True, _sentence(planted.date_changed)),
    "negation_added": (True, _sentence(planted.negation_added)),
    "drug_class_or_brand_swap": (True, _sentence(planted.drug_class_or_brand_swap)),
    "fact_added": (True, lambda item, rng: planted.fact_added(item.sentence, item.hit.text, rng)),
    "merged_altered": (True, _pair(planted.merged_altered)),
}
OTHER_KINDS = {
    "other_note_quote": True,
    "other_patient_chunk": True,
    "stale_currency": True,
    "current_statement": False,
    "injection": True,
}
ALL_KINDS = list(SENTENCE_KINDS) + list(OTHER_KINDS)
VERBATIM_KINDS = {"verbatim", "label_stripped", "first_clause", "current_statement"}
TARGET_RECALL, TARGET_FA_VERBATIM, TARGET_FA_PARAPHRASE, TARGET_MS = 0.95, 0.01, 0.03, 200


def claim_of(text: str, quotes: tuple[str, ...], source_id: str = "S1") -> GeneratedClaim:
    return GeneratedClaim("bench", squash(text), tuple(GeneratedCitation(source_id, q) for q in quotes))


# --------------------------------------------------------------------------------------
# Building the cases
# --------------------------------------------------------------------------------------


def sentence_cases(kind: str, pool: list[Item], per_kind: int, seed: int) -> list[Case]:
    is_planted, fn = SENTENCE_KINDS[kind]
    rng = random.Random(f"{seed}:{kind}")
    min_words = 3 if kind in SHORT_OK else MIN_WORDS
    order = [item for item in pool if len(item.sentence.split()) >= min_words]
    rng.shuffle(order)
    cases, seen = [], set()
    for item in order:
        edit = fn(item, rng)
        if edit is None or not edit.claim.strip():
            continue
        quotes = edit.quotes or (item.sentence,)
        if squash(edit.claim) == squash(item.sentence) and kind != "verbatim":
            continue  # the change did nothing
        key = squash(edit.claim).lower()
        if key in seen:
            continue
        seen.add(key)
        cases.append(Case(kind, is_planted, claim_of(edit.claim, quotes), {"S1": item.hit}, item.hit.patient_id))
        if len(cases) >= per_kind:
            break
    return cases


def other_note_cases(pool: list[Item], per_kind: int, seed: int) -> list[Case]:
    """A sentence of another note, cited as if this chunk said it (same patient where possible)."""
    rng = random.Random(f"{seed}:other_note_quote")
    by_patient: dict[int, list[Item]] = defaultdict(list)
    for item in pool:
        by_patient[item.hit.patient_id].append(item)
    cases = []
    order = pool[:]
    rng.shuffle(order)
    for item in order:
        same = [o for o in by_patient[item.hit.patient_id] if o.hit.note_id != item.hit.note_id]
        other = rng.choice(same) if same and rng.random() < 0.5 else rng.choice(pool)
        text = other.sentence
        if other.hit.note_id == item.hit.note_id or squash(text).lower() in squash(item.hit.text).lower():
            continue
        cases.append(
            Case(
                "other_note_quote",
                True,
                claim_of(text, (text,)),
                {"S1": item.hit},
                item.hit.patient_id,
                "same patient" if other.hit.patient_id == item.hit.patient_id else "other patient",
            )
        )
        if len(cases) >= per_kind:
            break
    return cases


def other_patient_cases(pool: list[Item], per_kind: int, seed: int) -> list[Case]:
    rng = random.Random(f"{seed}:other_patient_chunk")
    patients = sorted({item.hit.patient_id for item in pool})
    cases = []
    for item in rng.sample(pool, min(len(pool), per_kind * 2)):
        other = rng.choice(patients)
        if other != item.hit.patient_id:
            cases.append(
                Case("other_patient_chunk", True, claim_of(item.sentence, (item.sentence,)), {"S1": item.hit}, other)
            )
        if len(cases) >= per_kind:
            break
    return cases


def currency_cases(
    notes: list[Note], facts, hits_by_note: dict[int, list[Hit]], per_kind: int, seed: int
) -> list[Case]:
    rng = random.Random(f"{seed}:currency")
    sentences: dict[int, list] = defaultdict(list)
    hits: dict[int, list[Hit]] = defaultdict(list)
    for note in notes:
        if note.origin != "ward":
            continue
        for hit in hits_by_note[note.note_id]:
            hits[note.patient_id].append(hit)
            sentences[note.patient_id] += [ward.WardSentence(hit, s, e) for s, e in sentence_spans(hit.text)]
    cases = []
    for c in ward.currency_cases(facts, sentences, hits, per_kind, rng):
        keys = ["S1", "S2"]
        rng.shuffle(keys)
        sources = {keys[0]: c.cited.hit, keys[1]: c.other}
        when = f"cited {c.cited.hit.authored_at:%m/%d %H:%M}, other {c.other.authored_at:%m/%d %H:%M}"
        cases.append(
            Case(
                c.kind,
                c.kind == "stale_currency",
                claim_of(c.cited.text, (c.cited.text,), keys[0]),
                sources,
                c.cited.hit.patient_id,
                f"{c.variant}; {when}; other: {squash(c.other.text)[:160]}",
            )
        )
    return cases


def injection_cases(notes: list[Note], chunker: Chunker, per_kind: int, seed: int) -> list[Case]:
    rng = random.Random(f"{seed}:injection")
    cases = []
    attempts = 0
    while len(cases) < per_kind and attempts < per_kind * 5:
        attempts += 1
        note = rng.choice(notes)
        made = injection.inject(note.text, rng)
        if made is None:
            continue
        hit = chunker.hit(
            note,
            ordinal=made.ordinal,
            char_start=made.chunk_start,
            char_end=made.chunk_end,
            section=made.section,
            text=made.chunk_text,
        )
        cases.append(
            Case(
                "injection",
                True,
                claim_of(made.claim, (made.quote,)),
                {"S1": hit},
                note.patient_id,
                f"{made.variant}; injected: {made.line}",
            )
        )
    return cases


def build(kinds: list[str], notes: list[Note], facts, per_kind: int, seed: int) -> tuple[list[Case], int]:
    chunker = Chunker()
    hits_by_note = {note.note_id: chunker.hits(note) for note in notes}
    every = [item for note in notes for hit in hits_by_note[note.note_id] for item in items_of(hit)]
    pool = [item for item in every if len(item.sentence.split()) >= MIN_WORDS]
    cases: list[Case] = []
    for kind in kinds:
        if kind in SENTENCE_KINDS:
            cases += sentence_cases(kind, every, per_kind, seed)
        elif kind == "other_note_quote":
            cases += other_note_cases(pool, per_kind, seed)
        elif kind == "other_patient_chunk":
            cases += other_patient_cases(pool, per_kind, seed)
        elif kind == "injection":
            cases += injection_cases(notes, chunker, per_kind, seed)
    if {"stale_currency", "current_statement"} & set(kinds):
        cases += [c for c in currency_cases(notes, facts, hits_by_note, per_kind, seed) if c.kind in kinds]
    return cases, len(pool)


# --------------------------------------------------------------------------------------
# Running the verifiers
# --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    verdict: str
    reason: str


def run_one(verify, case: Case) -> Outcome:
    try:
        check = verify(claim=case.claim, sources=case.sources, patient_id=case.patient_id)
    except Exception as error:  # a verifier under rewrite may raise: count it, keep going
        return Outcome("error", f"{type(error).__name__}: {str(error)[:80]}")
    return Outcome(check.verdict, check.reason or "")


def run_all(verify, cases: list[Case], batch: int = 40) -> tuple[list[Outcome], list[float]]:
    """Outcomes in case order, and milliseconds per batch of `batch` consecutive cases."""
    outcomes, batch_ms = [], []
    for start in range(0, len(cases), batch):
        began = time.perf_counter()
        outcomes += [run_one(verify, case) for case in cases[start : start + batch]]
        if len(cases[start : start + batch]) == batch:
            batch_ms.append((time.perf_counter() - began) * 1000)
    return outcomes, batch_ms


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def _rate(n: int, d: int) -> str:
    return f"{n / d:.3f}" if d else "  -  "


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def report(cases: list[Case], old: list[Outcome], new: list[Outcome], per_kind: int) -> None:
    kinds = [k for k in ALL_KINDS if any(c.kind == k for c in cases)]
    total, flag_old, flag_new = Counter(), Counter(), Counter()
    for case, o, n in zip(cases, old, new):
        total[case.kind] += 1
        flag_old[case.kind] += o.verdict != "supported"
        flag_new[case.kind] += n.verdict != "supported"
    planted_of = {c.kind: c.planted for c in cases}
    print(f"\n{'kind':<26}{'planted?':>9}{'claims':>8}{'flagged v1':>12}{'flagged new':>13}")
    for kind in kinds:
        short = "  (corpus lacks material)" if total[kind] < per_kind else ""
        print(
            f"{kind:<26}{'yes' if planted_of[kind] else 'no':>9}{total[kind]:>8}{flag_old[kind]:>12}"
            f"{flag_new[kind]:>13}{short}"
        )

    print(f"\n{'kind':<26}{'measure':<13}{'v1':>7}{'new':>7}  target")
    for kind in kinds:
        if planted_of[kind]:
            measure, v1, nw, target = "recall", flag_old[kind], flag_new[kind], f">= {TARGET_RECALL}"
            ok = flag_new[kind] / total[kind] >= TARGET_RECALL
        else:
            limit = TARGET_FA_VERBATIM if kind in VERBATIM_KINDS else TARGET_FA_PARAPHRASE
            measure, v1, nw, target = "false alarm", flag_old[kind], flag_new[kind], f"<= {limit}"
            ok = flag_new[kind] / total[kind] <= limit
        print(
            f"{kind:<26}{measure:<13}{_rate(v1, total[kind]):>7}{_rate(nw, total[kind]):>7}  {target:<8}"
            f"{'' if ok else '  MISSED (new)'}"
        )

    print()
    for name, outcomes in (("v1 ", old), ("new", new)):
        tp = sum(c.planted and o.verdict != "supported" for c, o in zip(cases, outcomes))
        fp = sum(not c.planted and o.verdict != "supported" for c, o in zip(cases, outcomes))
        planted_n = sum(c.planted for c in cases)
        faithful_n = len(cases) - planted_n
        injected = sum(c.kind == "injection" and o.verdict == "supported" for c, o in zip(cases, outcomes))
        errors = sum(o.verdict == "error" for o in outcomes)
        print(
            f"overall {name}: recall {_rate(tp, planted_n)} ({tp}/{planted_n}), precision {_rate(tp, tp + fp)}, "
            f"false alarms {_rate(fp, faithful_n)} ({fp}/{faithful_n}); injection shown as supported: "
            f"{injected} (target 0)" + (f"; verifier errors: {errors}" if errors else "")
        )
    verdicts = Counter(o.verdict for o in new)
    print("new verifier verdicts: " + ", ".join(f"{v} {n}" for v, n in verdicts.most_common()))
    stale = Counter(n.verdict for c, n in zip(cases, new) if c.kind == "stale_currency")
    if stale:
        print("new verifier on stale_currency: " + ", ".join(f"{v} {n}" for v, n in stale.most_common()))
    errors = [n.reason for n in new if n.verdict == "error"]
    if errors:
        print(f"first verifier error: {errors[0]}")


def examples_missed(cases: list[Case], new: list[Outcome], per_kind: int = 1) -> None:
    print(f"\n{per_kind} example(s) the new verifier got wrong, per kind (claim | first quote | verdict: reason):")
    shown: Counter = Counter()
    for case, outcome in zip(cases, new):
        wrong = (outcome.verdict == "supported") == case.planted
        if wrong and shown[case.kind] < per_kind:
            shown[case.kind] += 1
            quote = case.claim.citations[0].quote if case.claim.citations else ""
            print(
                f"  [{case.kind}] {case.claim.text[:100]!r} | {squash(quote)[:100]!r} | "
                f"{outcome.verdict}: {outcome.reason[:80]}"
            )


def show(cases: list[Case], n: int, seed: int) -> None:
    rng = random.Random(seed)
    by_kind: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_kind[case.kind].append(case)
    for kind in ALL_KINDS:
        if kind not in by_kind:
            continue
        print(f"\n=== {kind} ({'planted' if by_kind[kind][0].planted else 'faithful'}, {len(by_kind[kind])} claims)")
        for case in rng.sample(by_kind[kind], min(n, len(by_kind[kind]))):
            print(f"  claim: {case.claim.text}")
            for citation in case.claim.citations:
                print(f"  quote [{citation.source_id}]: {squash(citation.quote)}")
            if case.detail:
                print(f"  ({case.detail})")
            print()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=300)
    parser.add_argument("--kinds", default="", help=f"comma list (default all): {','.join(ALL_KINDS)}")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--mtsamples", type=int, default=0, help="MTSamples reports to use (0: all)")
    parser.add_argument("--nursing", type=int, default=0, help="nursing notes to use (0: all)")
    parser.add_argument("--show", type=int, default=0, help="print N random cases per kind and stop")
    parser.add_argument("--misses", type=int, default=1, help="examples the new verifier got wrong, per kind")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] or ALL_KINDS
    unknown = set(kinds) - set(ALL_KINDS)
    if unknown:
        parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    if not (DATA / "mtsamples").is_dir():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 2

    started = time.monotonic()
    notes, facts = corpus(args.mtsamples, args.nursing)
    cases, n_sentences = build(kinds, notes, facts, args.per_kind, args.seed)
    built = time.monotonic() - started
    if args.show:
        show(cases, args.show, args.seed)
        return 0
    random.Random(args.seed).shuffle(cases)  # batches of 40 mix kinds, like a real summary

    from clinsum.summaries import verification as current  # imported late: it is being rewritten

    began = time.perf_counter()
    run_one(current.claim_verify, cases[0])  # the first call may load an NLP pipeline
    first_call = time.perf_counter() - began
    began = time.perf_counter()
    old, old_ms = run_all(verification_v1.claim_verify, cases)
    old_s = time.perf_counter() - began
    began = time.perf_counter()
    new, new_ms = run_all(current.claim_verify, cases)
    new_s = time.perf_counter() - began

    print(
        f"grounding benchmark: {len(cases)} claims in {len({c.kind for c in cases})} kinds from "
        f"{n_sentences} sentences of {len(notes)} notes; built in {built:.1f} s; verified by v1 in {old_s:.1f} s, "
        f"by new in {new_s:.1f} s (+ first call {first_call:.1f} s)"
    )
    report(cases, old, new, args.per_kind)
    torch = sys.modules.get("torch")
    threads = f"torch threads {torch.get_num_threads()}" if torch else "torch not loaded"
    print(
        f"\n40-claim summary, new verifier: median {statistics.median(new_ms):.1f} ms, p95 "
        f"{_percentile(new_ms, 0.95):.1f} ms over {len(new_ms)} batches (target < {TARGET_MS} ms); v1 median "
        f"{statistics.median(old_ms):.1f} ms; single process, os.sched_getaffinity {len(os.sched_getaffinity(0))} "
        f"cpus, {threads}"
    )
    examples_missed(cases, new, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
