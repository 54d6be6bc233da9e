"""Check every claim against the spans it cites. Pure functions: no database, no model.

A citation counts only if its source id is one of the chunks retrieved for this summary of
this patient and its quote is found in that chunk. The claim's numbers, laterality and
negation must then agree with the quoted text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from clinsum.summaries.backends import GeneratedClaim
from retrieval.types import Hit

FUZZY_MIN = 90  # partial_ratio for a near-exact quote (whitespace, punctuation, case drift)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")
_NEGATION = re.compile(r"\b(no|not|denies|denied|without|negative|absent|never|none|neither|nor)\b|n't\b", re.I)
_LATERALITY = re.compile(r"\b(left|right|bilateral)\b", re.I)
# Units that change a claim's meaning when swapped (mg vs mcg, mL vs L ...).
_UNIT = re.compile(
    r"(?<=[\d\s])(mcg|mg|g|kg|ng|ml|l|meq|mmol|units?|iu|%|mm ?hg|mg/dl|g/dl|mmol/l|meq/l|ng/ml|bpm|cm|mm)(?![a-z])",
    re.I,
)
_QUANTITY = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s?(mcg|mg|g|kg|ng|ml|l|meq|mmol|units?|iu|%|mg/dl|g/dl|mmol/l|meq/l|ng/ml|mm|cm)(?![a-z])",
    re.I,
)
_WORD = re.compile(r"[a-z][a-z-]{3,}", re.I)
# Common drugs whose names carry none of the suffixes below.
_DRUG_NAMES = frozenset(
    """insulin digoxin ceftriaxone cefazolin cefepime acetaminophen morphine ondansetron nitroglycerin
    amiodarone norepinephrine epinephrine dopamine dobutamine vasopressin propofol fentanyl haloperidol
    levothyroxine allopurinol albuterol ipratropium tiotropium aspirin warfarin heparin clopidogrel
    ticagrelor metformin glipizide potassium magnesium calcium naloxone oxycodone hydromorphone
    gabapentin tramadol labetalol hydralazine spironolactone torsemide bumetanide""".split()
)
# Words a faithful paraphrase may add without the source saying them.
_FILLER = frozenset(
    """with this that from have been were will also patient patients noted note notes documented
    currently current continue continued continues given giving receiving receives taking takes
    started start stopped stop daily twice once per while which their there these those being into
    onto over under after before during since until about reports reported states stated shows
    showed found remains remained status history presents presented treated treatment plan""".split()
)
# Suffixes of drug names: a drug in a claim must be in the cited text (catches drug swaps).
_DRUG = re.compile(
    r"\b[a-z]+(?:olol|pril|sartan|statin|parin|xaban|azole|cillin|mycin|floxacin|cycline|semide|thiazide|"
    r"dipine|prazole|tidine|glutide|gliptin|formin|lukast|terol|tropium|sone|olone|pam|lam|done|codone|morphone|"
    r"barb|tadine|oxetine|aline|apine|idone|azepam|vir|mab|nib|platin|rubicin|taxel|ase|arin|afil|osin|actone)\b",
    re.I,
)

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


def _units(text: str) -> set[str]:
    return {u.lower().replace(" ", "") for u in _UNIT.findall(text)}


def _quantities(text: str) -> Counter:
    """Number+unit pairs ("133 mmol/L"): a unit swapped onto another number is caught too."""
    return Counter(f"{n}{u.lower()}" for n, u in _QUANTITY.findall(text))


def _negation_lost(claim: str, cited: str) -> str:
    """A word the cited text negates that the claim states without a negation nearby."""
    claim_words = [w.lower() for w in re.findall(r"[A-Za-z']+", claim)]
    negated_in_claim = set()
    for i, word in enumerate(claim_words):
        if _NEGATION.fullmatch(word) or word.endswith("n't"):
            negated_in_claim.update(claim_words[i + 1 : i + 7])
    cited_words = [w.lower() for w in re.findall(r"[A-Za-z']+", cited)]
    for i, word in enumerate(cited_words):
        if _NEGATION.fullmatch(word) or word.endswith("n't"):
            following = [w for w in cited_words[i + 1 : i + 4] if len(w) > 3 and w not in _FILLER]
            if following and following[0] in claim_words and following[0] not in negated_in_claim:
                return following[0]
    return ""


def _is_drug(word: str) -> bool:
    return word.lower() in _DRUG_NAMES or bool(_DRUG.fullmatch(word))


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _unsupported_words(claim: str, cited: str) -> list[str]:
    """Content words of the claim that the cited text does not contain (by crude stem)."""
    cited_stems = {_stem(w) for w in _WORD.findall(cited)}
    return [w for w in _WORD.findall(claim) if w.lower() not in _FILLER and _stem(w) not in cited_stems]


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

    # Whitespace carries no meaning here, and the claim may have collapsed the note's runs of
    # spaces and line breaks ("12:37    Unit: 4W" quoted as "12:37 Unit: 4W").
    cited_text = " ".join(
        " ".join(c.hit.text[c.note_start - c.hit.char_start : c.note_end - c.hit.char_start] for c in found).split()
    )
    claim = GeneratedClaim(claim.section, " ".join(claim.text.split()), claim.citations)
    missing_numbers = _numbers(claim.text) - _numbers(cited_text)
    if missing_numbers:
        shown = ", ".join(sorted(missing_numbers)[:3])
        return ClaimCheck(UNSUPPORTED, f"number(s) {shown} not in the cited text", checks)
    if _negated(claim.text) != _negated(cited_text) or _negation_lost(claim.text, cited_text):
        return ClaimCheck(UNSUPPORTED, "negation differs from the cited text", checks)
    claim_sides, cited_sides = _sides(claim.text), _sides(cited_text)
    if (
        claim_sides - cited_sides
        or Counter(claim_sides) - Counter(cited_sides)
        or (
            Counter(s.lower() for s in _LATERALITY.findall(claim.text))
            - Counter(s.lower() for s in _LATERALITY.findall(cited_text))
        )
    ):
        return ClaimCheck(UNSUPPORTED, "laterality differs from the cited text", checks)
    missing_units = _units(claim.text) - _units(cited_text)
    if missing_units or _quantities(claim.text) - _quantities(cited_text):
        shown = ", ".join(sorted(missing_units)) or "quantity"
        return ClaimCheck(UNSUPPORTED, f"unit(s) {shown} not as in the cited text", checks)
    missing = _unsupported_words(claim.text, cited_text)
    drugs = [w for w in missing if _is_drug(w)]
    if drugs:
        return ClaimCheck(UNSUPPORTED, f"{drugs[0]} is not in the cited text", checks)
    content = [w for w in _WORD.findall(claim.text) if w.lower() not in _FILLER]
    if content and len(missing) / len(content) > 0.5:
        return ClaimCheck(UNSUPPORTED, "most of the claim's words are not in the cited text", checks)
    if content and len(missing) / len(content) > 0.25:
        return ClaimCheck(PARTLY, "some of the claim's words are not in the cited text", checks)
    if len(found) < len(checks):
        return ClaimCheck(PARTLY, f"{len(checks) - len(found)} of {len(checks)} citations could not be checked", checks)
    return ClaimCheck(SUPPORTED, "", checks)
