"""The extractive backend (embedded default, no LLM): each claim is a sentence quoted
verbatim from a retrieved chunk, so it is grounded by construction and still verified."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from retrieval.chunking import sentence_spans
from retrieval.embedding import Embedder
from retrieval.types import Hit

from ..sections import SummarySection
from . import GeneratedCitation, GeneratedClaim, Generation

PROMPT_VERSION = "extractive-1"
MIN_WORDS = 4
NEAR_DUPLICATE = 85  # rapidfuzz token_set_ratio above which two sentences say the same thing
_HEADER_ONLY = re.compile(r"^[#\s]*[A-Z][A-Z /&-]{2,}:?\s*$")


@dataclass(frozen=True)
class Candidate:
    source_id: str
    hit: Hit
    start: int  # offsets into hit.text
    end: int

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]


def _candidates(source_ids: list[str], sources: dict[str, Hit]) -> list[Candidate]:
    found = []
    for source_id in source_ids:
        hit = sources[source_id]
        for start, end in sentence_spans(hit.text):
            sentence = hit.text[start:end]
            if len(sentence.split()) < MIN_WORDS or _HEADER_ONLY.match(sentence):
                continue
            found.append(Candidate(source_id, hit, start, end))
    return found


def _recency(hits: list[Hit]) -> dict[int, float]:
    """0..1 by authored date among the retrieved notes: newest 1."""
    dates = sorted({h.authored_at for h in hits if h.authored_at})
    if len(dates) < 2:
        return {h.note_id: 1.0 for h in hits}
    rank = {d: i / (len(dates) - 1) for i, d in enumerate(dates)}
    return {h.note_id: rank.get(h.authored_at, 0.0) for h in hits}


def extractive_generate(
    *, sections: tuple[SummarySection, ...], section_sources: dict[str, list[str]],
    sources: dict[str, Hit], embedder: Embedder,
) -> Generation:
    chosen_texts: list[str] = []
    claims: list[GeneratedClaim] = []
    recency = _recency(list(sources.values()))
    for section in sections:
        candidates = _candidates(section_sources.get(section.key, []), sources)
        if not candidates:
            continue
        vectors = embedder.encode([section.query, *[c.text for c in candidates]])
        similarity = vectors[1:] @ vectors[0]
        bonus = np.array(
            [(0.15 if c.hit.section in section.note_sections else 0.0) + 0.1 * recency[c.hit.note_id]
             for c in candidates]
        )
        order = np.argsort(-(similarity + bonus), kind="stable")
        taken = 0
        for index in order:
            candidate = candidates[int(index)]
            text = " ".join(candidate.text.split())
            if any(fuzz.token_set_ratio(text, other) >= NEAR_DUPLICATE for other in chosen_texts):
                continue
            chosen_texts.append(text)
            claims.append(
                GeneratedClaim(section.key, text, (GeneratedCitation(candidate.source_id, candidate.text),))
            )
            taken += 1
            if taken >= section.max_claims:
                break
    return Generation(claims=claims, model="extractive (no LLM)", prompt_version=PROMPT_VERSION)
