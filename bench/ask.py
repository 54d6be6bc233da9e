"""Ask the chart (issue 18): are a clinician's questions answered from the patient's notes?

    .venv/bin/python -m bench ask [--patients 20] [--limit N] [--details] [--keep-index]

The question set is generated from the demo ward's ground truth (the top-level demo package,
seed 7 as `seed_demo` uses: ``PatientFacts`` per MRN), never from ClinSum's output:

- answerable: the current dose of an active drug; "is she still on X" for a drug the chart
  stopped (the answer must give the stop, never the drug as current); allergies (or no known
  drug allergies); the last value of a lab; whether and when a procedure happened; the
  principal diagnosis; the follow-ups pending; and a few about the past (the first value of a
  lab, "was X ever given"). A question is kept only when its gold facts are written in the
  patient's notes (one line holds them), since an answer can only quote the chart;
- unanswerable (>= 25 %): a common inpatient drug never given, and a test or procedure never
  done, each absent from the patient's facts and named in none of the patient's notes.

"Current" is the chart as it stands: the dose in effect at the patient's newest note; a drug is
stopped when its stop time is at or before that note (a discharged patient's inpatient-only
drugs stop at discharge), as bench/summary_facts.py's ground truth reads it.

Each question goes through the real service, `question_ask(..., enqueue=False)` then
`question_run` in this process (timed), asked by a clinician on the patient's care team. What a
clinician is shown: the answer's sentences whose verdict is not hidden (the app's
HIDDEN_VERDICTS), each with its citations' quoted spans. Scoring (the matching helpers of
bench/summary_facts.py: `mentions`, `drug_aliases`, `drugs_named`, `normalise`):

- correct (answerable): not abstained, and the gold fact(s) in a shown sentence (a dose:
  drug and dose in one sentence; allergies: each substance in some sentence; follow-ups: any
  one of them). A stopped drug: a shown sentence gives the stop, and none presents the drug as
  current without stop wording (that one is counted as "stopped shown as current");
- citation precision (answerable): of the shown sentences, those whose cited span(s) hold the
  gold fact or the question's key entity (the drug, lab, procedure, diagnosis, ...);
- abstention (unanswerable): abstained, or no sentence shown; a failed job is no abstention;
- wrong (unanswerable): a shown sentence naming the absent drug as given or the test as done;
- latency: wall time of `question_run` per question, p50 and p95.

The "when" of a procedure is the cited note's date, which the answer shows beside each
sentence: the bench checks that the procedure is named, not a date in the sentence.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache

from bench.summary_facts import (
    _NO_ALLERGIES_CLAIM,
    DEMO_SEED,
    _find_phrase,
    allergy_named,
    drug_aliases,
    drugs_named,
    hidden_verdicts,
    mentions,
    normalise,
    pct,
)

DB_NAME = "clinsum_bench_ask"

TARGETS = {
    "correct": (">= 0.90", lambda v: v >= 0.90),
    "citation_precision": (">= 0.95", lambda v: v >= 0.95),
    "abstention": (">= 0.95", lambda v: v >= 0.95),
    "wrong_unanswerable": ("<= 0.02", lambda v: v <= 0.02),
    "p95_s": ("< 1 s", lambda v: v < 1.0),
}

ANSWERABLE_KINDS = (
    "dose",  # current dose of an active drug
    "stopped",  # "still on X?" for a drug the chart stopped
    "allergies",
    "lab_last",
    "procedure",
    "principal",
    "follow_ups",
    "lab_first",  # the past: first value of a lab
    "drug_ever",  # the past: was X ever given
)
UNANSWERABLE_KINDS = ("never_given", "never_done")
NKDA = "no known drug allergies"  # the allergy gold of a patient without allergies

# Common inpatient drugs; a patient's unanswerable drugs are those of this list that neither its
# facts nor any of its notes name.
COMMON_DRUGS = (
    "warfarin",
    "amiodarone",
    "digoxin",
    "haloperidol",
    "lorazepam",
    "hydromorphone",
    "oxycodone",
    "gabapentin",
    "meropenem",
    "linezolid",
    "metronidazole",
    "fluconazole",
    "dexamethasone",
    "hydrocortisone",
    "famotidine",
    "spironolactone",
    "hydralazine",
    "carvedilol",
    "losartan",
    "tramadol",
    "quetiapine",
    "docusate",
    "senna",
    "zolpidem",
    "methylprednisolone",
    "rivaroxaban",
    "levetiracetam",
    "phenytoin",
    "clonidine",
    "melatonin",
)
# Tests and procedures never done on the demo ward's stays: (name, how a clinician types it).
COMMON_TESTS = (
    ("Colonoscopy", "colonoscopy"),
    ("Lumbar puncture", "LP"),
    ("Bronchoscopy", "bronchoscopy"),
    ("Paracentesis", "paracentesis"),
    ("Electroencephalogram", "EEG"),
    ("Nuclear stress test", "stress test"),
    ("Transesophageal echocardiogram", "TEE"),
    ("Hemodialysis", "dialysis"),
    ("Pulmonary function testing", "PFTs"),
    ("Lipase", "lipase"),
    ("Ammonia level", "ammonia"),
    ("D-dimer", "d-dimer"),
    ("Ferritin", "ferritin"),
    ("Carotid ultrasound", "carotid doppler"),
    ("Thyroid ultrasound", "thyroid US"),
    ("Skin biopsy", "skin biopsy"),
)
# How clinicians type the ward's procedures (the gold stays the full name).
PROCEDURE_TYPED = {
    "Transthoracic echocardiogram": "echo",
    "Transthoracic echocardiogram with bubble study": "bubble echo",
    "Esophagogastroduodenoscopy": "EGD",
    "Cardiac catheterization with percutaneous coronary intervention": "cardiac cath",
    "Transfusion of 2 units packed red blood cells": "blood transfusion",
    "Central venous catheter placement, right internal jugular": "central line",
    "Arterial line placement, left radial": "art line",
    "Foley catheter placement": "foley",
}

# Phrasings per kind: {P} he/she, {O} him/her, {G} his/her, {x} the entity, {y} a second word.
PHRASINGS = {
    "dose": (
        "What dose of {x} is {P} on?",
        "Current {x} dose?",
        "{x} dose",
        "what's {G} {x} dose now",
        "How much {x} is {P} getting?",
    ),
    "stopped": ("Is {P} still on {x}?", "still getting {x}?", "Is {P} still getting {x}?", "{x} still going?"),
    "allergies": ("Any allergies?", "What is {P} allergic to?", "allergies?", "Does {P} have any drug allergies?"),
    "lab_last": ("What was the last {x}?", "Latest {x}?", "last {x}", "What is {G} most recent {x}?"),
    "lab_first": ("What was the first {x}?", "{x} on admission?", "What was {G} admission {x}?"),
    "procedure": (
        "Did {P} have a {x}?",
        "When was the {x}?",
        "{x} done?",
        "Has {P} had a {x} this admission?",
        "when was the last {x}",
    ),
    "principal": (
        "Why was {P} admitted?",
        "What is the principal diagnosis?",
        "admitting dx?",
        "What is {P} here for?",
    ),
    "follow_ups": (
        "What follow-up is pending?",
        "Any pending follow-ups?",
        "what needs follow up after discharge",
        "What is planned after discharge?",
    ),
    "drug_ever": ("Was {P} ever given {x}?", "Did {P} get {x} this admission?", "{x} given at any point?"),
    "never_given": ("Is {P} on {x}?", "{x} dose?", "What dose of {x} is {P} getting?", "Was {P} ever given {x}?"),
    "never_done": ("When was the last {x}?", "Has {P} had a {x}?", "{x} results?", "Did {P} get a {x}?"),
}


# --------------------------------------------------------------------------------------------
# Questions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    qid: str  # "<MRN>#<n>"
    mrn: str
    text: str
    kind: str
    gold: tuple[str, ...]  # the facts a correct answer must contain (empty: unanswerable)
    answerable: bool
    entity: str  # the question's key entity: a drug, a lab, a procedure, "allergies", ...
    drugs: tuple[str, ...] = ()  # the patient's drugs, so overlapping names resolve right
    # one: every gold fact in one shown sentence; each: each in some shown sentence; any: one of
    # them; stop: a sentence gives the drug's stop; not_current: the notes never write the stop (the
    # drug just leaves the medication lists), so an answer is right when nothing shown presents
    # the drug as current (saying the chart does not say is right too)
    need: str = "one"


@cache
def _aliases(drug: str) -> frozenset[str]:
    return frozenset(drug_aliases(drug))


def _lexicon(q: Question) -> dict[str, set[str]]:
    names = dict.fromkeys([*q.drugs, q.entity] if q.kind in _DRUG_KINDS else q.drugs)
    return {name: set(_aliases(name)) for name in names}


_DRUG_KINDS = frozenset({"dose", "stopped", "drug_ever", "never_given"})


def _drug_states(text: str, q: Question) -> list[bool]:
    """How `text` presents the question's drug: one bool (current?) per clause group; [] if not named."""
    return [m.current for m in drugs_named(text, _lexicon(q)) if m.drug == q.entity]


def _value_in(text: str, value: str) -> bool:
    return bool(_find_phrase(normalise(value), normalise(text)))


def fact_in(text: str, q: Question, fact: str) -> bool:
    """One gold fact of `q` in `text`, by the kind of fact it is."""
    if q.kind in ("dose", "drug_ever"):
        return bool(_drug_states(text, q)) if fact == q.entity else _value_in(text, fact)
    if q.kind == "stopped":
        return False in _drug_states(text, q)
    if q.kind in ("lab_last", "lab_first"):
        return mentions(text, fact) if fact == q.entity else _value_in(text, fact)
    if q.kind == "allergies":
        return bool(_NO_ALLERGIES_CLAIM.search(text)) if fact == NKDA else allergy_named(text, fact)
    return mentions(text, fact)


def gold_in(text: str, q: Question) -> bool:
    """Whether `text` alone holds what `q` needs in one sentence (any fact, for each/any)."""
    facts = sorted(q.gold, key=lambda fact: fact == q.entity)  # the cheap checks (values) first
    hits = (fact_in(text, q, fact) for fact in facts)
    return all(hits) if q.need in ("one", "stop") else any(hits)


def entity_in(text: str, q: Question) -> bool:
    """The question's key entity is named in `text` (a cited span about the right thing)."""
    if q.kind in _DRUG_KINDS:
        return bool(_drug_states(text, q))
    if q.kind in ("lab_last", "lab_first"):
        return mentions(text, q.entity)
    if q.kind == "allergies":
        return gold_in(text, q) or bool(re.search(r"\ballerg", text, re.I))
    if q.kind == "never_done":
        return any(mentions(text, name) for name in _test_names(q.entity))
    return gold_in(text, q)


def _test_names(name: str) -> list[str]:
    return [name, *(typed for full, typed in COMMON_TESTS if full == name)]


@dataclass
class _Chart:
    """One patient's notes as the generator reads them."""

    texts: list[str]
    lines: list[tuple[str, str]] = field(init=False)  # (line, normalised line)
    norm: str = field(init=False)

    def __post_init__(self) -> None:
        lines = dict.fromkeys(line for text in self.texts for line in text.splitlines() if line.strip())
        self.lines = [(line, normalise(line)) for line in lines]
        self.norm = normalise("\n".join(self.texts))

    def _candidates(self, q: Question) -> list[str]:
        """The lines that can hold `q`'s gold (a cheap substring test before the matchers)."""
        if q.kind in _DRUG_KINDS:
            keys = _aliases(q.entity)
        elif q.kind in ("lab_last", "lab_first"):
            keys = frozenset({normalise(q.gold[1])})
        else:
            return [line for line, _ in self.lines]
        return [line for line, norm in self.lines if any(key in norm for key in keys)]

    def documented(self, q: Question) -> bool:
        """The notes hold `q`'s gold: one line with all of it (each/any: per fact)."""
        lines = self._candidates(q)
        if q.need == "not_current":  # the chart gave the drug; its stop is not written
            return any(_drug_states(line, q) for line in lines)
        if q.need in ("one", "stop"):
            return any(gold_in(line, q) for line in lines)
        hits = [any(fact_in(line, q, fact) for line in lines) for fact in q.gold]
        return all(hits) if q.need == "each" else any(hits)

    def names_drug(self, drug: str) -> bool:
        return any(_find_phrase(alias, self.norm) for alias in _aliases(drug))

    def names_test(self, name: str) -> bool:
        joined = "\n".join(self.texts)
        return any(mentions(joined, n) or _find_phrase(normalise(n), self.norm) for n in _test_names(name))


def _typed_lab(name: str) -> str:
    """'Creatinine' -> 'creatinine' mid-sentence; 'BNP', 'INR', 'C-reactive protein' as written."""
    return name if name[:2].isupper() else name[0].lower() + name[1:]


def _pronouns(sex: str) -> dict[str, str]:
    return {"P": "she", "O": "her", "G": "her"} if sex == "female" else {"P": "he", "O": "him", "G": "his"}


def _phrase(kind: str, rng: random.Random, sex: str, x: str = "") -> str:
    template = rng.choice(PHRASINGS[kind])
    text = template.format(x=x, **_pronouns(sex))
    if template[0].islower():  # a terse phrasing: typed as a clinician types it
        text = text.lower()
    return text[0].upper() + text[1:] if template[0] == "{" and rng.random() < 0.5 else text


def questions_for(patient, facts, notes, *, seed: int = DEMO_SEED) -> list[Question]:
    """The questions of one demo patient (its DemoPatient, PatientFacts and DemoNotes)."""
    rng = random.Random(f"{seed}:{patient.mrn}")
    chart = _Chart([n.text for n in notes])
    last = max(n.authored_at for n in notes)
    sex = patient.sex
    drugs = tuple(dict.fromkeys(c.drug for c in facts.medications))
    made: list[Question] = []

    def add(kind: str, gold: tuple[str, ...], entity: str, *, x: str = "", need: str = "one") -> bool:
        answerable = kind not in UNANSWERABLE_KINDS
        q = Question(
            qid=f"{patient.mrn}#{len(made) + 1:02d}",
            mrn=patient.mrn,
            text=_phrase(kind, rng, sex, x or entity),
            kind=kind,
            gold=gold,
            answerable=answerable,
            entity=entity,
            drugs=drugs,
            need=need,
        )
        if not answerable or chart.documented(q):
            made.append(q)
            return True
        return False

    def stopped(course) -> bool:
        return course.stopped_at is not None and course.stopped_at <= last

    for course in facts.medications:
        if stopped(course):
            add("stopped", (course.drug,), course.drug, need="stop") or add(
                "stopped", (course.drug,), course.drug, need="not_current"
            )
            add("drug_ever", (course.drug,), course.drug)
        else:
            steps = [s for s in course.doses if s.at <= last]
            if steps:
                add("dose", (course.drug, steps[-1].dose), course.drug)
    if facts.allergies:
        add("allergies", tuple(a.substance for a in facts.allergies), "allergies", need="each")
    else:
        add("allergies", (NKDA,), "allergies")
    lab_names = list(dict.fromkeys(lab.name for lab in facts.labs if lab.at <= last))
    for name in lab_names:
        latest = facts.lab_at(name, last)
        add("lab_last", (name, latest.value), name, x=_typed_lab(name))
    for name in lab_names[:1]:
        first = next(lab for lab in facts.labs if lab.name == name)
        add("lab_first", (name, first.value), name, x=_typed_lab(name))
    for proc in facts.procedures:
        if proc.at <= last:
            typed = PROCEDURE_TYPED.get(proc.name) if rng.random() < 0.6 else None
            add("procedure", (proc.name,), proc.name, x=typed or re.split(r",", proc.name)[0].lower())
    add("principal", (facts.problems[0],), facts.problems[0])
    if facts.follow_ups:
        add("follow_ups", tuple(facts.follow_ups), "follow-ups", need="any")

    # Unanswerable: a third of the answerable count, at least 4 per patient.
    n_answerable = len(made)
    n_unanswerable = max(4, -(-n_answerable // 3) + 1)
    fact_names = {normalise(d) for d in drugs} | {a for d in drugs for a in _aliases(d)}
    absent_drugs = [
        d for d in COMMON_DRUGS if not (_aliases(d) & fact_names) and d not in fact_names and not chart.names_drug(d)
    ]
    done = {normalise(p.name) for p in facts.procedures} | {normalise(lab.name) for lab in facts.labs}
    absent_tests = [(n, t) for n, t in COMMON_TESTS if normalise(n) not in done and not chart.names_test(n)]
    rng.shuffle(absent_drugs)
    rng.shuffle(absent_tests)
    n_drugs = min(len(absent_drugs), (n_unanswerable + 1) // 2)
    for drug in absent_drugs[:n_drugs]:
        add("never_given", (), drug)
    for name, typed in absent_tests[: n_unanswerable - n_drugs]:
        add("never_done", (), name, x=typed if rng.random() < 0.5 else name.lower())
    return made


def questions_generate(ward, *, seed: int = DEMO_SEED) -> list[Question]:
    """The question set over a demo ward (demo.DemoWard), patient by patient."""
    notes = defaultdict(list)
    for note in ward.notes:
        notes[note.mrn].append(note)
    return [q for p in ward.patients for q in questions_for(p, ward.facts[p.mrn], notes[p.mrn], seed=seed)]


def questions_spread(questions: list[Question], limit: int | None) -> list[Question]:
    """At most `limit` questions, spread over the patients and kinds (every k-th)."""
    if limit is None or limit >= len(questions):
        return questions
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    """A sentence of an answer as the clinician sees it: its text and its citations' quoted spans."""

    text: str
    quotes: tuple[str, ...]
    note_ids: tuple[int, ...] = ()


@dataclass
class Outcome:
    qid: str
    kind: str
    answerable: bool
    shown: list[Sentence]
    abstained: bool
    failed: bool = False
    correct: bool = False  # answerable only
    stopped_as_current: bool = False  # a stopped drug presented as current
    abstain_ok: bool = False  # unanswerable only
    wrong: bool = False  # unanswerable: the absent entity named as given/done
    precise: int = 0  # shown sentences whose cited spans hold the gold fact or the entity
    seconds: float = float("nan")


_NEGATED = re.compile(r"\b(?:no|not|never|without|denies|none)\b", re.I)


def score_question(
    q: Question, shown: list[Sentence], *, abstained: bool, failed: bool = False, seconds: float = float("nan")
) -> Outcome:
    out = Outcome(q.qid, q.kind, q.answerable, shown, abstained, failed=failed, seconds=seconds)
    if not q.answerable:
        out.abstain_ok = not failed and (abstained or not shown)
        if q.kind == "never_given":
            out.wrong = any(True in _drug_states(s.text, q) for s in shown)
        else:
            out.wrong = any(entity_in(s.text, q) and not _NEGATED.search(s.text) for s in shown)
        return out
    out.precise = sum(any(gold_in(quote, q) or entity_in(quote, q) for quote in s.quotes) for s in shown)
    if failed:
        return out
    if abstained or not shown:
        # "The chart does not say": right only where the chart never writes the stop of a drug
        # it no longer lists.
        out.correct = q.kind == "stopped" and q.need == "not_current"
        return out
    if q.kind == "stopped":
        out.stopped_as_current = any(True in _drug_states(s.text, q) for s in shown)
        gave_stop = any(gold_in(s.text, q) for s in shown)
        out.correct = not out.stopped_as_current and (gave_stop or q.need == "not_current")
    elif q.need == "one":
        out.correct = any(gold_in(s.text, q) for s in shown)
    else:
        hits = [any(fact_in(s.text, q, fact) for s in shown) for fact in q.gold]
        out.correct = all(hits) if q.need == "each" else any(hits)
    return out


@dataclass
class Summary:
    n: int = 0
    answerable: int = 0
    correct: int = 0
    stopped_as_current: int = 0
    shown: int = 0  # shown sentences of answerable questions
    precise: int = 0
    unanswerable: int = 0
    abstained: int = 0
    wrong: int = 0
    failed: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, out: Outcome) -> None:
        self.n += 1
        self.failed += out.failed
        self.seconds.append(out.seconds)
        if out.answerable:
            self.answerable += 1
            self.correct += out.correct
            self.stopped_as_current += out.stopped_as_current
            self.shown += len(out.shown)
            self.precise += out.precise
        else:
            self.unanswerable += 1
            self.abstained += out.abstain_ok
            self.wrong += out.wrong

    def figures(self) -> dict[str, float]:
        def ratio(a: int, b: int) -> float:
            return a / b if b else float("nan")

        return {
            "correct": ratio(self.correct, self.answerable),
            "citation_precision": ratio(self.precise, self.shown),
            "abstention": ratio(self.abstained, self.unanswerable),
            "wrong_unanswerable": ratio(self.wrong, self.unanswerable),
            "p95_s": pct(self.seconds, 0.95),
        }


def summarise(outcomes: list[Outcome]) -> tuple[Summary, dict[str, Summary]]:
    total, by_kind = Summary(), defaultdict(Summary)
    for out in outcomes:
        total.add(out)
        by_kind[out.kind].add(out)
    return total, dict(by_kind)


def verdicts(total: Summary) -> list[tuple[str, float, str, bool]]:
    """(figure, value, target, passed) for each target."""
    figures = total.figures()
    return [(name, figures[name], target, bool(check(figures[name]))) for name, (target, check) in TARGETS.items()]


# --------------------------------------------------------------------------------------------
# Running the service
# --------------------------------------------------------------------------------------------


def ask_one(q: Question, patient, user, hidden: tuple[str, ...]) -> Outcome:
    """Ask the real service one question, synchronously, and score what a clinician is shown."""
    from clinsum.asking.services import question_ask, question_run

    asked = question_ask(user=user, patient_id=patient.pk, text=q.text, enqueue=False)
    started = time.perf_counter()
    try:
        answered = question_run(question_id=asked.pk)
    except Exception as exc:  # a crash is a failed answer, not a crashed bench
        seconds = time.perf_counter() - started
        print(f"  {q.qid}: question_run raised {type(exc).__name__}")
        return score_question(q, [], abstained=False, failed=True, seconds=seconds)
    seconds = time.perf_counter() - started
    shown = [
        Sentence(
            s.text,
            tuple(c.quote for c in s.citations.all()),
            tuple(sorted({c.note_id for c in s.citations.all()})),
        )
        for s in answered.sentences.prefetch_related("citations").order_by("ordinal")
        if str(s.verdict) not in hidden
    ]
    failed = str(answered.status) != "answered"
    return score_question(
        q, [] if failed else shown, abstained=bool(answered.abstained), failed=failed, seconds=seconds
    )


def _fmt(value: float, *, seconds: bool = False) -> str:
    if value != value:
        return "-"
    return f"{value:.2f} s" if seconds else f"{value:.2f}"


def report(total: Summary, by_kind: dict[str, Summary]) -> bool:
    print(
        f"\n{'kind':<14}{'n':>5}{'correct':>10}{'stop>cur':>10}{'cit.prec':>10}{'abstain':>10}{'wrong':>8}"
        f"{'failed':>8}{'p50':>9}{'p95':>9}"
    )
    for kind in (*ANSWERABLE_KINDS, *UNANSWERABLE_KINDS, "all"):
        s = total if kind == "all" else by_kind.get(kind)
        if s is None:
            continue
        f = s.figures()
        print(
            f"{kind:<14}{s.n:>5}{_fmt(f['correct']):>10}{s.stopped_as_current if s.answerable else '-':>10}"
            f"{_fmt(f['citation_precision']):>10}{_fmt(f['abstention']):>10}"
            f"{s.wrong if s.unanswerable else '-':>8}{s.failed:>8}"
            f"{_fmt(pct(s.seconds, 0.5), seconds=True):>9}{_fmt(f['p95_s'], seconds=True):>9}"
        )
    print(
        f"\nanswerable {total.answerable}, unanswerable {total.unanswerable}; shown sentences on answerable "
        f"questions {total.shown}, with a cited span on the gold or the entity {total.precise}"
    )
    print(f"\n{'target':<22}{'value':>10}   {'target':<10}result")
    passed = True
    for name, value, target, ok in verdicts(total):
        passed &= ok
        print(f"{name:<22}{_fmt(value, seconds=name == 'p95_s'):>10}   {target:<10}{'PASS' if ok else 'FAIL'}")
    return passed


def print_details(questions: dict[str, Question], outcomes: list[Outcome]) -> None:
    """Every miss: question, gold, and what was shown (demo data: stdout only, never a log)."""
    print("\n== details (misses)")
    for out in outcomes:
        q = questions[out.qid]
        ok = out.correct if q.answerable else (out.abstain_ok and not out.wrong)
        imprecise = q.answerable and out.precise < len(out.shown)
        if ok and not imprecise:
            continue
        why = []
        if out.failed:
            why.append("failed")
        if q.answerable and not out.correct:
            reason = "no gold fact shown"
            if out.abstained:
                reason = "abstained"
            elif out.stopped_as_current:
                reason = "stopped drug shown as current"
            why.append(reason)
        if imprecise:
            why.append(f"citations off {len(out.shown) - out.precise}/{len(out.shown)}")
        if not q.answerable and not out.abstain_ok:
            why.append("answered")
        if out.wrong:
            why.append("WRONG: absent entity named")
        print(f"{q.qid} [{q.kind}] {q.text!r} gold={list(q.gold) or q.entity!r}: {', '.join(why)}")
        for s in out.shown:
            print(f"    - {s.text}  (notes {','.join(map(str, s.note_ids))})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=20, help="demo ward patients (seed 7, as seed_demo)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="ask at most N questions (spread)")
    parser.add_argument("--details", action="store_true", help="print every miss with what was shown")
    parser.add_argument(
        "--backend",
        choices=("extractive", "vllm-stub"),
        default="extractive",
        help="vllm-stub: the vLLM path against tests/llm_stub.py playing a model with planted errors "
        "(bench/ask_vllm.py)",
    )
    parser.add_argument(
        "--keep-index",
        action="store_true",
        help="reuse the last run's notes and chunks (saves minutes of embedding); only valid when "
        "--patients, chunking and the embedding model are unchanged since that run",
    )
    args = parser.parse_args()

    from bench.stack import bench_reader, bench_setup, charts_reset, machine
    from bench.summary_facts import index_all, load_demo
    from demo import demo_ward_generate

    bench_setup(DB_NAME)
    from django.conf import settings

    from clinsum.charts.models import Note, Patient

    print(f"machine: {machine()}")
    print(f"backend: {args.backend if args.backend != 'extractive' else settings.SUMMARY_BACKEND}")
    ward = demo_ward_generate(seed=DEMO_SEED, n_patients=args.patients)
    if not args.keep_index:
        charts_reset()
        load_demo(args.patients)
    print(f"indexing {Note.objects.count()} notes on CPU ...", flush=True)
    print(f"indexed in {index_all():.0f} s (not timed below)")
    patients = {p.mrn: p for p in Patient.objects.filter(mrn__in=[p.mrn for p in ward.patients])}
    missing = [p.mrn for p in ward.patients if p.mrn not in patients]
    if missing:
        raise SystemExit(f"{len(missing)} demo charts are not in the bench database: run without --keep-index")

    everything = questions_generate(ward)
    questions = questions_spread(everything, args.limit)
    kinds = Counter(q.kind for q in everything)
    print(
        f"question set: {len(everything)} questions over {len(ward.patients)} patients "
        f"({sum(not q.answerable for q in everything)} unanswerable): "
        + ", ".join(f"{k} {kinds[k]}" for k in (*ANSWERABLE_KINDS, *UNANSWERABLE_KINDS))
    )
    if len(questions) < len(everything):
        print(f"asking {len(questions)} of them (--limit)")

    hidden = hidden_verdicts()
    readers = {mrn: bench_reader(p) for mrn, p in patients.items()}
    if args.backend == "vllm-stub":
        from bench.ask_vllm import run

        return run(questions, patients, readers, hidden, details=args.details)
    warm = questions[0]  # the embedder and the code path, once, not timed
    ask_one(warm, patients[warm.mrn], readers[warm.mrn], hidden)

    outcomes = []
    for i, q in enumerate(questions, 1):
        outcomes.append(ask_one(q, patients[q.mrn], readers[q.mrn], hidden))
        if i % 50 == 0:
            print(f"  {i}/{len(questions)} asked", flush=True)
    total, by_kind = summarise(outcomes)
    passed = report(total, by_kind)
    print(f"\nlatency: mean {statistics.fmean(o.seconds for o in outcomes):.3f} s over {len(outcomes)} questions")
    if args.details:
        print_details({q.qid: q for q in questions}, outcomes)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
