"""The extractive backend (embedded default, no LLM): each claim is a sentence quoted
verbatim from a retrieved chunk, so it is grounded by construction and still verified."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from clinsum.summaries.backends import GeneratedCitation, GeneratedClaim, Generation
from clinsum.summaries.sections import SummarySection
from retrieval.chunking import sentence_spans
from retrieval.embedding import Embedder
from retrieval.types import Hit

PROMPT_VERSION = "extractive-2"
MIN_WORDS = 4
NEAR_DUPLICATE = 85  # rapidfuzz token_set_ratio above which two sentences say the same thing
_HEADER_ONLY = re.compile(r"^[#\s]*[A-Z][A-Z /&-]{2,}:?\s*$")
# Note furniture, not clinical content: dates of service, signatures, titles.
_BOILERPLATE = re.compile(
    r"date of service:|^\W*(date of service|unit:|attending:|author:|signed|electronically signed|dictated|transcribed|"
    r"cc:|seen and examined|discussed with nursing|page \d|(?:nursing|nsg) (?:progress )?note\b)|hospital day \d+\s*$",
    re.I,
)
# A leading list marker and section label ("- ", "2. ", "A: ", "SUBJECTIVE: ") shown once
# in the section heading already; the quote keeps them.
_LABEL = re.compile(r"^\s*(?:[-*\u2022]\s*|\d{1,2}[.)]\s+)?(?:[A-Z][A-Za-z /&-]{0,40}:\s+)?")
# Sections whose facts change over a stay: the latest statement about a thing wins.
LATEST_WINS = ("medications", "recent_events")
PICK_ORDER = ("allergies", "medications", "follow_ups", "recent_events", "problems")
_GENERIC_SUBJECTS = frozenset(
    "the a an patient pt he she they his her this no not will continue continued plan seen remains is was "
    "on in at with status overall today".split()
)
_SUBJECT = re.compile(r"[A-Za-z][A-Za-z-]+(?:\s+[A-Za-z][A-Za-z-]+)?")


@dataclass(frozen=True)
class Candidate:
    source_id: str
    hit: Hit
    start: int  # offsets into hit.text
    end: int

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]


def _candidates(
    source_ids: list[str], sources: dict[str, Hit], *, section: SummarySection, homes: dict[str, set[str]]
) -> list[Candidate]:
    found = []
    for source_id in source_ids:
        hit = sources[source_id]
        own = hit.section in section.note_sections
        if not own and homes.get(hit.section):
            continue  # a chunk from another section's home (medications list under Allergies)
        for start, end in sentence_spans(hit.text):
            sentence = hit.text[start:end]
            if (
                len(sentence.split()) < (2 if own else MIN_WORDS)
                or _HEADER_ONLY.match(sentence)
                or _BOILERPLATE.search(sentence)
            ):
                continue
            letters = [c for c in sentence if c.isalpha()]
            if letters and sum(c.isupper() for c in letters) / len(letters) > 0.7 and ":" not in sentence:
                continue  # a shouted title line

            found.append(Candidate(source_id, hit, start, end))
    return found


def claim_text(sentence: str) -> str:
    """The sentence as a claim: whitespace collapsed, leading list marker and label dropped."""
    text = " ".join(sentence.split())
    stripped = text[_LABEL.match(text).end() :]
    return stripped if len(stripped.split()) >= 3 else text


def _subject(sentence: str) -> str:
    """What a sentence is about, for 'latest wins': its first one or two words ('furosemide',
    'creatinine'), after the label."""
    match = _SUBJECT.search(claim_text(sentence))
    word = match.group(0).split()[0].lower() if match else ""
    return "" if word in _GENERIC_SUBJECTS else word


def _latest_per_subject(candidates: list[Candidate]) -> list[Candidate]:
    """Keep, per subject, only candidates from the most recent note that mentions it."""
    newest: dict[str, object] = {}
    for c in candidates:
        key = _subject(c.text)
        if key and (key not in newest or c.hit.authored_at > newest[key]):
            newest[key] = c.hit.authored_at
    return [c for c in candidates if not _subject(c.text) or c.hit.authored_at == newest[_subject(c.text)]]


def _recency(hits: list[Hit]) -> dict[int, float]:
    """0..1 by authored date among the retrieved notes: newest 1."""
    dates = sorted({h.authored_at for h in hits if h.authored_at})
    if len(dates) < 2:
        return {h.note_id: 1.0 for h in hits}
    rank = {d: i / (len(dates) - 1) for i, d in enumerate(dates)}
    return {h.note_id: rank.get(h.authored_at, 0.0) for h in hits}


def extractive_generate(
    *,
    sections: tuple[SummarySection, ...],
    section_sources: dict[str, list[str]],
    sources: dict[str, Hit],
    embedder: Embedder,
) -> Generation:
    chosen_texts: list[str] = []
    claims: list[GeneratedClaim] = []
    recency = _recency(list(sources.values()))
    # Specific sections choose first, so a medication line lands under Medications rather
    # than being taken by the broader Active problems (claims are shared across sections once).
    homes = {name: {s.key for s in sections if name in s.note_sections} for s in sections for name in s.note_sections}
    # Sections without a place in PICK_ORDER (nursing drafts): "latest wins" ones are the
    # specific, current-state ones (an SBAR's assessment), so they choose before the broad ones.
    for section in sorted(
        sections, key=lambda s: PICK_ORDER.index(s.key) if s.key in PICK_ORDER else (50 if s.latest_wins else 99)
    ):
        candidates = _candidates(section_sources.get(section.key, []), sources, section=section, homes=homes)
        latest = section.latest_wins or section.key in LATEST_WINS
        if latest:
            candidates = _latest_per_subject(candidates)
        if not candidates:
            continue
        vectors = embedder.encode([section.query, *[c.text for c in candidates]])
        similarity = vectors[1:] @ vectors[0]
        bonus = np.array(
            [
                (0.15 if c.hit.section in section.note_sections else 0.0)
                + (0.3 if latest else 0.1) * recency[c.hit.note_id]
                for c in candidates
            ]
        )
        order = np.argsort(-(similarity + bonus), kind="stable")
        taken = 0
        for index in order:
            candidate = candidates[int(index)]
            text = claim_text(candidate.text)
            if any(fuzz.token_set_ratio(text, other) >= NEAR_DUPLICATE for other in chosen_texts):
                continue
            chosen_texts.append(text)
            claims.append(GeneratedClaim(section.key, text, (GeneratedCitation(candidate.source_id, candidate.text),)))
            taken += 1
            if taken >= section.max_claims:
                break
    return Generation(claims=claims, model="extractive (no LLM)", prompt_version=PROMPT_VERSION)
