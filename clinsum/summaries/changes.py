"""What changed between two summaries of one patient: claims added, removed and changed.

Deterministic, no language model. Claims are matched within their section by subject: in the
medications section the drugs a claim names (generic names, so "Lasix" and "furosemide" are one
subject), elsewhere the claim's words without numbers and units. Two claims with one subject and
different text are one claim changed ("Furosemide 40 mg" then "Furosemide 80 mg"); a claim whose
subject the other summary lacks is added (only in the newer one) or removed (only in the older
one, which includes what was resolved)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from retrieval.clinical.drugs import drugs_in

# Words that carry a quantity, not a subject: a dose or a frequency change keeps the subject.
_UNITS = frozenset(
    """mg mcg ug g gm kg ml l dl meq mmol mol mmhg iu u unit units cc mm cm bpm hr hrs h hour hours
    day days daily bid tid qid qd qhs qam qpm prn q once twice thrice times x weekly week weeks
    month months min mins minute minutes sec percent po iv im sc sq sl pr inh""".split()
)
_WORD = re.compile(r"[a-z][a-z'-]*")
_SPACE = re.compile(r"\s+")


class ClaimLike(Protocol):
    section: str
    text: str


def claim_text_key(text: str) -> str:
    """The claim's text for equality: case, spacing and a final full stop do not count."""
    return _SPACE.sub(" ", text).strip().rstrip(".").strip().lower()


def claim_subject(section: str, text: str) -> str:
    """What the claim is about, for matching across summaries (see the module docstring)."""
    if section == "medications":
        drugs = drugs_in(text)
        if drugs:
            return "drug:" + "|".join(sorted(drugs))
    words = [w for w in _WORD.findall(text.lower()) if w not in _UNITS]
    return " ".join(words)


@dataclass
class SectionChanges:
    key: str
    title: str
    added: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    changed: list = field(default_factory=list)  # (older claim, newer claim)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def claims_compare(older: list, newer: list, sections: list[tuple[str, str]]) -> list[SectionChanges]:
    """The changes from `older` to `newer` (claims with .section and .text), per section in the
    order of `sections` ((key, title) pairs); sections without a change are left out. Within a
    section, claims of one subject are paired in order; the rest are added or removed."""
    result = []
    for key, title in sections:
        old = [c for c in older if c.section == key]
        new = [c for c in newer if c.section == key]
        old_texts = {claim_text_key(c.text) for c in old}
        new_texts = {claim_text_key(c.text) for c in new}
        old = [c for c in old if claim_text_key(c.text) not in new_texts]  # unchanged claims drop out
        new = [c for c in new if claim_text_key(c.text) not in old_texts]
        changes = SectionChanges(key, title)
        unmatched_old = list(old)
        for claim in new:
            subject = claim_subject(key, claim.text)
            match = next((o for o in unmatched_old if claim_subject(key, o.text) == subject), None)
            if match is None:
                changes.added.append(claim)
            else:
                unmatched_old.remove(match)
                changes.changed.append((match, claim))
        changes.removed = unmatched_old
        if changes:
            result.append(changes)
    return result
