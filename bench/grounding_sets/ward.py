"""stale_currency and current_statement, from the demo ward's ground truth.

A MedicationCourse with more than one DoseStep changed dose at each later step's `at`; one with
`stopped_at` ended then. For such a change:

- stale_currency (planted): the claim is a sentence of a note written BEFORE the change that states the
  old dose, cited verbatim; the sources also hold a chunk of a note written AFTER the change that states
  the new dose (variant "dose"), or, for a stopped drug, the medication list of a later note that no
  longer lists it (variant "stopped"). Repeating the old note's words as current is out of date.
- current_statement (faithful): the claim is a sentence of the newer note stating the dose in effect,
  cited verbatim, with the older chunk also in the sources. It must not be flagged.

Doses come from the ground truth at each note's time (MedicationCourse.step_at), not from parsing.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from demo import MedicationCourse, PatientFacts
from retrieval.types import Hit


@dataclass(frozen=True)
class WardSentence:
    hit: Hit
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]


@dataclass(frozen=True)
class CurrencyCase:
    kind: str  # stale_currency / current_statement
    variant: str  # dose / stopped
    cited: WardSentence
    other: Hit  # the chunk of the other note, also in the sources


def _mentions(text: str, drug: str, dose: str) -> bool:
    return re.search(rf"\b{re.escape(drug)}\s+{re.escape(dose)}(?![\d.])", text, re.I) is not None


def _dose_pairs(course: MedicationCourse, sentences: list[WardSentence], hits: list[Hit]):
    """(older sentence, newer chunk) around each dose change, doses as the ground truth says."""
    for before, after in zip(course.doses, course.doses[1:]):
        older = [
            s
            for s in sentences
            if s.hit.authored_at < after.at
            and course.step_at(s.hit.authored_at) == before
            and _mentions(s.text, course.drug, before.dose)
            and not _mentions(s.text, course.drug, after.dose)
        ]
        newer = [
            h
            for h in hits
            if h.authored_at >= after.at
            and (step := course.step_at(h.authored_at))
            and step.dose != before.dose
            and _mentions(h.text, course.drug, step.dose)
            and not _mentions(h.text, course.drug, before.dose)
        ]
        for s in older:
            for h in newer:
                yield s, h


def _stop_pairs(course: MedicationCourse, sentences: list[WardSentence], hits: list[Hit]):
    """(older sentence, newer medication list without the drug) around a stop."""
    if course.stopped_at is None:
        return
    last = course.doses[-1]
    older = [
        s
        for s in sentences
        if s.hit.authored_at < course.stopped_at
        and course.step_at(s.hit.authored_at) == last
        and _mentions(s.text, course.drug, last.dose)
    ]
    newer = [
        h
        for h in hits
        if h.authored_at >= course.stopped_at
        and "medication" in h.section
        and re.search(r"\d\s?(?:mg|mcg|units|g)\b", h.text)
        and not re.search(rf"\b{re.escape(course.drug.split()[0])}\b", h.text, re.I)
    ]
    for s in older:
        for h in newer:
            yield s, h


def _current(course: MedicationCourse, newer: Hit, sentences: list[WardSentence]) -> WardSentence | None:
    step = course.step_at(newer.authored_at)
    if step is None:
        return None
    found = [s for s in sentences if s.hit.chunk_id == newer.chunk_id and _mentions(s.text, course.drug, step.dose)]
    return found[0] if found else None


def currency_cases(
    facts: dict[int, PatientFacts],
    sentences: dict[int, list[WardSentence]],
    hits: dict[int, list[Hit]],
    per_kind: int,
    rng: random.Random,
) -> list[CurrencyCase]:
    """Up to per_kind stale_currency and per_kind current_statement cases, dose changes first."""
    stale: dict[str, list[CurrencyCase]] = {"dose": [], "stopped": []}
    current: list[CurrencyCase] = []
    for patient_id, patient in facts.items():
        for course in patient.medications:
            for s, h in _dose_pairs(course, sentences[patient_id], hits[patient_id]):
                stale["dose"].append(CurrencyCase("stale_currency", "dose", s, h))
                newest = _current(course, h, sentences[patient_id])
                if newest:
                    current.append(CurrencyCase("current_statement", "dose", newest, s.hit))
            for s, h in _stop_pairs(course, sentences[patient_id], hits[patient_id]):
                stale["stopped"].append(CurrencyCase("stale_currency", "stopped", s, h))
    out = []
    for group in stale.values():
        rng.shuffle(group)
    out += _distinct(stale["dose"], per_kind)
    out += _distinct(stale["stopped"], per_kind - len(out))
    rng.shuffle(current)
    out += _distinct(current, per_kind)
    return out


def _distinct(cases: list[CurrencyCase], limit: int) -> list[CurrencyCase]:
    """Prefer cases whose (claim text, other chunk text) differ: templated notes repeat sentences."""
    seen, first, rest = set(), [], []
    for case in cases:
        key = (" ".join(case.cited.text.split()), case.other.text)
        (rest if key in seen else first).append(case)
        seen.add(key)
    return (first + rest)[: max(limit, 0)]
