"""Check every claim against the spans it cites. Pure functions: no database, no model.

A citation counts only if its source id is one of the chunks retrieved for this summary of
this patient and its quote is found in that chunk. The claim's numbers, laterality and
negation must then agree with the quoted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from retrieval.types import Hit

from .backends import GeneratedClaim

FUZZY_MIN = 90  # partial_ratio for a near-exact quote (whitespace, punctuation, case drift)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")
_NEGATION = re.compile(r"\b(no|not|denies|denied|without|negative|absent|never|none|neither|nor)\b|n't\b", re.I)
_LATERALITY = re.compile(r"\b(left|right|bilateral)\b", re.I)

SUPPORTED, PARTLY, UNSUPPORTED = "supported", "partly_supported", "unsupported"


@dataclass
class CitationCheck:
    source_id: str
    quote: str
    hit: Hit | None = None
    note_start: int | None = None  # span in the note text
    note_end: int | None = None
    found: bool = False
    problem: str = ""


@dataclass
class ClaimCheck:
    verdict: str
    reason: str
    citations: list[CitationCheck] = field(default_factory=list)


def _locate(quote: str, text: str) -> tuple[int, int] | None:
    """Span of `quote` in `text`: exact, then whitespace-insensitive, then fuzzy."""
    quote = quote.strip()
    if not quote:
        return None
    position = text.find(quote)
    if position >= 0:
        return position, position + len(quote)
    pattern = r"\s+".join(re.escape(word) for word in quote.split())
    match = re.search(pattern, text, re.I)
    if match:
        return match.start(), match.end()
    alignment = fuzz.partial_ratio_alignment(quote, text, score_cutoff=FUZZY_MIN)
    if alignment is not None and alignment.dest_end > alignment.dest_start:
        return alignment.dest_start, alignment.dest_end
    return None


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def _sides(text: str) -> set[str]:
    return {s.lower() for s in _LATERALITY.findall(text)}


def claim_verify(*, claim: GeneratedClaim, sources: dict[str, Hit], patient_id: int) -> ClaimCheck:
    checks: list[CitationCheck] = []
    for citation in claim.citations:
        check = CitationCheck(source_id=citation.source_id, quote=citation.quote)
        hit = sources.get(citation.source_id)
        if hit is None:
            check.problem = f"cites {citation.source_id[:20]!r}, which is not a source of this summary"
        elif hit.patient_id != patient_id:
            check.problem = "cites a note of another patient"
        else:
            check.hit = hit
            span = _locate(citation.quote, hit.text)
            if span is None:
                check.problem = "quoted words are not in the cited note"
            else:
                check.found = True
                check.note_start = hit.char_start + span[0]
                check.note_end = hit.char_start + span[1]
        checks.append(check)

    found = [c for c in checks if c.found]
    if not checks:
        return ClaimCheck(UNSUPPORTED, "no citation", checks)
    if not found:
        return ClaimCheck(UNSUPPORTED, checks[0].problem, checks)

    cited_text = " ".join(c.hit.text[c.note_start - c.hit.char_start : c.note_end - c.hit.char_start] for c in found)
    missing_numbers = _numbers(claim.text) - _numbers(cited_text)
    if missing_numbers:
        shown = ", ".join(sorted(missing_numbers)[:3])
        return ClaimCheck(UNSUPPORTED, f"number(s) {shown} not in the cited text", checks)
    if _negated(claim.text) != _negated(cited_text):
        return ClaimCheck(UNSUPPORTED, "negation differs from the cited text", checks)
    claim_sides, cited_sides = _sides(claim.text), _sides(cited_text)
    if claim_sides and not claim_sides <= cited_sides:
        return ClaimCheck(UNSUPPORTED, "laterality differs from the cited text", checks)
    if len(found) < len(checks):
        return ClaimCheck(PARTLY, f"{len(checks) - len(found)} of {len(checks)} citations could not be checked", checks)
    return ClaimCheck(SUPPORTED, "", checks)
