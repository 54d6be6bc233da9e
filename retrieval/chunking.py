"""Section-aware chunking of clinical notes with exact character offsets. No Django.

A chunk never crosses a section header (HPI, MEDICATIONS:, "# Allergies", nursing "A:"), is
made of whole sentences where possible, stays within the embedding model's window (~180 words
for all-MiniLM-L6-v2), and its text is always note_text[char_start:char_end].
"""

from __future__ import annotations

import re

from .types import ChunkSpan

# Headers at the start of a line: Markdown ("# Medications"), ALL-CAPS with a colon
# ("ASSESSMENT AND PLAN:"), and terse nursing markers ("A:", "Neuro:", "Resp -").
_HEADER = re.compile(
    r"^[ \t]*(?:"
    r"(?P<md>\#{1,6}[ \t]+[^\n]{1,80}?)[ \t]*$"
    r"|(?P<caps>[A-Z][A-Z0-9/&,()' -]{1,60}?)[ \t]*:"
    r"|(?P<nurse>S|O|A|P|A/P|Neuro|CV|Resp|Pulm|GI|GU|Renal|Skin|Social|Psychosocial|ID|Heme|Endo|Pain|Access|Lines|Dispo|Plan|Assessment)[ \t]*:"
    r")",
    re.MULTILINE,
)

_SYNONYMS = {
    "hpi": "history_of_present_illness",
    "history": "history_of_present_illness",
    "history_of_present_illness": "history_of_present_illness",
    "pmh": "past_medical_history",
    "past_history": "past_medical_history",
    "psh": "past_surgical_history",
    "meds": "medications",
    "current_medications": "medications",
    "medications": "medications",
    "medication": "medications",
    "allergy": "allergies",
    "drug_allergies": "allergies",
    "a_p": "assessment_and_plan",
    "assessment_plan": "assessment_and_plan",
    "assessment_and_plan": "assessment_and_plan",
    "impression_and_plan": "assessment_and_plan",
    "a": "assessment",
    "p": "plan",
    "s": "subjective",
    "o": "objective",
    "cv": "cardiovascular",
    "resp": "respiratory",
    "pulm": "respiratory",
    "gi": "gastrointestinal",
    "gu": "genitourinary",
    "id": "infectious_disease",
    "heme": "hematology",
    "endo": "endocrine",
    "exam": "physical_exam",
    "physical_examination": "physical_exam",
    "pe": "physical_exam",
    "labs": "labs",
    "laboratory_data": "labs",
    "laboratory": "labs",
    "lab_data": "labs",
    "follow_up": "follow_up",
    "followup": "follow_up",
    "follow_up_appointments": "follow_up",
    "ros": "review_of_systems",
    "cc": "chief_complaint",
}

_ABBREVIATIONS = {
    "dr", "mr", "mrs", "ms", "st", "vs", "e.g", "i.e", "etc", "approx", "no", "b.i.d", "t.i.d", "q.i.d",
    "p.o", "q.d", "a.m", "p.m", "fig", "pt", "hx", "sx", "dx", "tx", "mg", "ml", "cm", "mm", "kg", "ca",
    "inc", "jr", "sr", "vol", "b.i.d", "h.s", "p.r.n", "q.h.s", "q", "n.p.o", "u.s", "o.d", "o.s",
}
# A sentence ends after . ! ? (and closing quotes/brackets) followed by whitespace, or at a line
# break that starts a list item or follows a blank line.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*(?=\s)|\n(?=[ \t]*(?:[-*\u2022]|\d{1,2}[.)][ \t]|\n|[A-Z][A-Za-z /&]{0,40}:))")
_WORD_BEFORE = re.compile(r"(\S+)$")
_WORD = re.compile(r"\S+")


def section_of(header: str) -> str:
    """'MEDS:' -> 'medications', '## Allergies' -> 'allergies', 'A/P:' -> 'assessment_and_plan'."""
    name = header.strip().lstrip("#").strip().rstrip(":").strip().lower()
    key = re.sub(r"[^a-z0-9]+", "_", name).strip("_")
    return _SYNONYMS.get(key, key)


def _is_abbreviation(text: str, dot: int) -> bool:
    match = _WORD_BEFORE.search(text, max(0, dot - 20), dot)
    if not match:
        return False
    word = match.group(1).lower().lstrip("([\"'")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences in text[start:end] as (start, end) offsets into text, whitespace trimmed."""
    end = len(text) if end is None else end
    cuts = [start]
    for match in _BOUNDARY.finditer(text, start, end):
        if match.group(0)[0] == "." and _is_abbreviation(text, match.start()):
            continue
        cuts.append(match.end())
    cuts.append(end)
    spans = []
    for a, b in zip(cuts, cuts[1:]):
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            spans.append((a, b))
    return spans


def _sections(text: str) -> list[tuple[int, int, str]]:
    """(start, end, section name) covering the whole text; text before the first header is ''."""
    starts = [(0, "")]
    for match in _HEADER.finditer(text):
        header = match.group("md") or match.group("caps") or match.group("nurse")
        if match.group("caps") and len(header.split()) > 6:
            continue  # a shouted sentence, not a header
        position = match.start() + (len(match.group(0)) - len(match.group(0).lstrip()))
        if position == starts[-1][0]:
            starts[-1] = (position, section_of(header))
        else:
            starts.append((position, section_of(header)))
    return [(s, e, name) for (s, name), (e, _) in zip(starts, [*starts[1:], (len(text), "")]) if e > s]


def _word_pieces(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Split an over-long sentence on whitespace into pieces of at most max_words words."""
    words = list(_WORD.finditer(text, start, end))
    return [(words[i].start(), words[min(i + max_words, len(words)) - 1].end())
            for i in range(0, len(words), max_words)]


def chunk_note(text: str, *, max_words: int = 180) -> list[ChunkSpan]:
    chunks: list[ChunkSpan] = []
    for section_start, section_end, section in _sections(text):
        pieces: list[tuple[int, int, int]] = []  # (start, end, words)
        for a, b in sentence_spans(text, section_start, section_end):
            n = len(_WORD.findall(text, a, b)) if b - a < 4000 else max_words + 1
            if n > max_words:
                pieces.extend((pa, pb, len(_WORD.findall(text, pa, pb))) for pa, pb in _word_pieces(text, a, b, max_words))
            else:
                pieces.append((a, b, n))
        current: list[tuple[int, int, int]] = []
        for piece in pieces:
            if current and sum(p[2] for p in current) + piece[2] > max_words:
                chunks.append(_chunk(text, len(chunks), current, section))
                current = []
            current.append(piece)
        if current:
            chunks.append(_chunk(text, len(chunks), current, section))
    return chunks


def _chunk(text: str, ordinal: int, pieces: list[tuple[int, int, int]], section: str) -> ChunkSpan:
    start, end = pieces[0][0], pieces[-1][1]
    return ChunkSpan(ordinal=ordinal, char_start=start, char_end=end, section=section, text=text[start:end])
