"""Section-aware chunking of clinical notes with exact character offsets. No Django.

A chunk never crosses a section header (HPI:, MEDICATIONS:, "# Allergies", nursing "A:"), is
made of whole sentences where possible, stays within the embedding model's window (~180 words
for all-MiniLM-L6-v2), and its text is always note_text[char_start:char_end]: whitespace is
trimmed by moving offsets, never by editing text, so citations can point back into the note.
"""

from __future__ import annotations

import re

from .types import ChunkSpan

# An ALL-CAPS label of at least two characters ("HPI", "ASSESSMENT AND PLAN", "FOLLOW-UP").
_CAPS = r"[A-Z][A-Z0-9/&,()' -]{0,58}[A-Z0-9)]"
# Terse nursing markers at the start of a line, in any case: "A:", "neuro:", "Resp-", "cv--hr", "pulm=".
_SOAP = r"(?i:[SOAP])"
_NURSE = (
    r"(?i:S/O|A/P|Neuro|CV|Resp|Pulm|GI/GU|GI|GU|Renal|Skin|Social|ID|Heme|Endo|Cardiac"
    r"|Pain|Access|Lines|Plan|Assessment)"
)
# Headers: a Markdown line; a label with a colon at line start (indentation allowed); a nursing
# word with a dash at line start (a lone letter would catch "A-fib"); or, mid-line, an ALL-CAPS
# label (or SOAP letter) right after a sentence ends ("...edema. SKIN: warm", "...; A: stable").
# "(?!\d)" keeps ratios and times ("ANA 1:40", "10:30") out.
_HEADER = re.compile(
    r"^[ \t]*(?P<md>\#{1,6}[ \t]+\S[^\n]{0,80}?)[ \t\r]*$"
    rf"|^[ \t]*(?P<line>{_CAPS}|{_SOAP}|{_NURSE})[ \t]*:(?!\d)"
    rf"|^[ \t]*(?P<marker>{_NURSE})[ \t]*(?:--?|=)(?!\d)"
    rf"|(?<=[.;])[ \t]+(?P<inline>{_CAPS}|[SOAP])[ \t]*:(?!\d)",
    re.MULTILINE,
)
_MAX_HEADER_WORDS = 6  # longer ALL-CAPS runs before a colon are shouted sentences, not headers

_SYNONYMS = {
    "hpi": "history_of_present_illness",
    "hx": "history_of_present_illness",
    "history": "history_of_present_illness",
    "pmh": "past_medical_history",
    "past_history": "past_medical_history",
    "psh": "past_surgical_history",
    "shx": "social_history",
    "fhx": "family_history",
    "cc": "chief_complaint",
    "ros": "review_of_systems",
    "meds": "medications",
    "medication": "medications",
    "current_medications": "medications",
    "home_medications": "medications",
    "allergy": "allergies",
    "drug_allergies": "allergies",
    "a_p": "assessment_and_plan",
    "assessment_plan": "assessment_and_plan",
    "impression_and_plan": "assessment_and_plan",
    "impression_plan": "assessment_and_plan",
    "a": "assessment",
    "assess": "assessment",
    "p": "plan",
    "s": "subjective",
    "o": "objective",
    "s_o": "subjective_objective",
    "pe": "physical_exam",
    "exam": "physical_exam",
    "physical_examination": "physical_exam",
    "vs": "vital_signs",
    "vitals": "vital_signs",
    "lab": "labs",
    "laboratory": "labs",
    "lab_data": "labs",
    "laboratory_data": "labs",
    "laboratory_studies": "labs",
    "procedure": "procedures",
    "procedure_performed": "procedures",
    "procedures_performed": "procedures",
    "course": "hospital_course",
    "followup": "follow_up",
    "follow_up_instructions": "follow_up",
    "follow_up_appointments": "follow_up",
    "neurologic": "neuro",
    "neurological": "neuro",
    "cv": "cardiovascular",
    "cardiac": "cardiovascular",
    "resp": "respiratory",
    "pulm": "respiratory",
    "gi": "gastrointestinal",
    "gu": "genitourinary",
    "id": "infectious_disease",
    "heme": "hematology",
    "endo": "endocrine",
}

# "Dr. Smith", "St. Mary's", "approx. 2130": a period after these never ends a sentence.
_TITLES = {"dr", "mr", "mrs", "ms", "prof", "st", "vs", "approx", "e.g", "i.e", "cf", "fig"}
# "5 mg. daily", "b.i.d. with meals": these end a sentence only when a capital letter follows.
_UNITS = {
    "mg",
    "mcg",
    "g",
    "kg",
    "ml",
    "cc",
    "l",
    "cm",
    "mm",
    "in",
    "ft",
    "lb",
    "lbs",
    "oz",
    "hr",
    "hrs",
    "min",
    "sec",
    "wk",
    "wks",
    "yr",
    "yrs",
    "meq",
    "units",
    "tab",
    "tabs",
    "cap",
}
# A candidate boundary: . ! ? (with closing quotes or brackets) before whitespace; a line break
# before a list item or a blank line; the end of a Markdown header line. The punctuation run is
# matched once from its first mark (lookbehind, possessive), so "....." stays linear.
_BOUNDARY = re.compile(
    r"(?<![.!?])[.!?]++[\"')\]]*+(?=\s)"
    r"|\n(?=[ \t]*(?:[-*\u2022][ \t]|\d{1,2}[.)][ \t]|\r?\n))"
    r"|^[ \t]*\#{1,6}[ \t][^\n]*(?=\n)",
    re.MULTILINE,
)
_WORD = re.compile(r"\S+")
_WORD_BEFORE = re.compile(r"\S{1,24}$")


def section_of(header: str) -> str:
    """'MEDS:' -> 'medications', '## Allergies' -> 'allergies', 'A/P:' -> 'assessment_and_plan'."""
    name = header.strip().lstrip("#").strip().rstrip(":").strip().lower()
    key = re.sub(r"[^a-z0-9]+", "_", name.replace("&", " and ")).strip("_")
    return _SYNONYMS.get(key, key)


def _ends_sentence(text: str, match: re.Match) -> bool:
    mark = match.group(0)[0]
    if mark not in ".?":
        return True  # "!", a list item, a blank line, the end of a Markdown header
    if mark == "?":
        # nursing shorthand "r/o ? pna" queries, it does not end anything
        return match.start() > 0 and not text[match.start() - 1].isspace()
    before = _WORD_BEFORE.search(text, max(0, match.start() - 24), match.start())
    word = before.group(0).lower().lstrip("([\"'") if before else ""
    if word in _TITLES or (len(word) == 1 and word.isalpha()) or (word.isdigit() and len(word) <= 3):
        return False  # a title, an initial ("John A. Smith") or a list number ("1. Asthma")
    if word in _UNITS or "." in word:
        following = text[match.end() : match.end() + 8].lstrip()
        return not following or following[0].isupper()
    return True


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences in text[start:end] as (start, end) offsets into text, whitespace trimmed."""
    end = len(text) if end is None else end
    cuts = [start]
    for match in _BOUNDARY.finditer(text, start, end):
        if _ends_sentence(text, match):
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
    """(start, end, section) covering the whole text; text before the first header is ''."""
    found = [(0, 0, "")]  # (header start, header end, name)
    for match in _HEADER.finditer(text):
        kind = match.lastgroup
        if kind is None:  # every alternative of _HEADER is a named group
            continue
        header = match.group(kind)
        if kind != "md" and len(header.split()) > _MAX_HEADER_WORDS:
            continue
        found.append((match.start(kind), match.end(), section_of(header)))
    sections = []
    pending = None  # start of a header with nothing under it, folded into the next section
    for (start, header_end, name), (next_start, _, _) in zip(found, [*found[1:], (len(text), 0, "")]):
        start = start if pending is None else pending
        body = text[header_end:next_start]
        if name and next_start < len(text) and (not body or body.isspace()):
            pending = start  # "# Assessment and Plan" directly followed by "## Plan"
            continue
        pending = None
        if next_start > start:
            sections.append((start, next_start, name))
    return sections


def _pieces(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int, int]]:
    """(start, end, words) of each sentence; one longer than max_words is cut on whitespace."""
    pieces = []
    for a, b in sentence_spans(text, start, end):
        words = [(m.start(), m.end()) for m in _WORD.finditer(text, a, b)]
        for i in range(0, len(words), max_words):
            group = words[i : i + max_words]
            pieces.append((group[0][0], group[-1][1], len(group)))
    return pieces


def chunk_note(text: str, *, max_words: int = 180) -> list[ChunkSpan]:
    """Section-aware chunks in document order; text[c.char_start:c.char_end] == c.text."""
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    chunks: list[ChunkSpan] = []

    def emit(start: int, end: int, section: str) -> None:
        chunks.append(
            ChunkSpan(ordinal=len(chunks), char_start=start, char_end=end, section=section, text=text[start:end])
        )

    for section_start, section_end, section in _sections(text):
        chunk_start: int | None = None
        chunk_end = section_start
        words = 0
        for a, b, n in _pieces(text, section_start, section_end, max_words):
            if chunk_start is not None and words + n > max_words:
                emit(chunk_start, chunk_end, section)
                chunk_start = None
            if chunk_start is None:
                chunk_start, words = a, 0
            chunk_end, words = b, words + n
        if chunk_start is not None:
            emit(chunk_start, chunk_end, section)
    return chunks
