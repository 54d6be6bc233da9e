"""Answer a clinician's question about one chart from its notes (the extractive answerer of
"Ask the chart"). Pure: the question, this patient's numbered sources and the order hybrid
retrieval ranked them in; no Django, no model.

The answer is statements quoted from the notes, each with its source, never a sentence
composed here except the chart reader's own findings (a drug stopped: "not on the discharge
medication list of ..."). What is asked decides where the answer comes from:

- a drug: the chart reader's medication findings (current list, stopped drugs with the list
  that left them out), else the statements that name the drug;
- allergies: the chart reader's allergy findings (a named substance must be in them);
- the diagnosis, follow-ups and pending results: the chart reader's problems and follow-ups;
- anything else (a lab, a procedure, a consultant's advice): the statements that name every
  key word of the question.

Newest first when the question is about the present ("current", "still", "latest", "last",
"now"); otherwise in the order of the stay. When no statement names the question's key entity
(a drug never given, a test never done) the answer abstains: no sentence, the closest notes
listed, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz

from retrieval.types import Hit

from .chart import (
    ALLERGY_SECTIONS,
    Finding,
    Statement,
    allergies_read,
    chart_statements,
    follow_ups_read,
    medications_read,
    problems_read,
)
from .drugs import drugs_in

MAX_SENTENCES = 3
MAX_CLOSEST = 3
NEAR_DUPLICATE = 90
QUESTION_MAX_CHARS = 500

_PRESENT = re.compile(r"\b(?:current(?:ly)?|still|latest|last|now|today|most recent|recent(?:ly)?|anymore)\b", re.I)
_ALLERGY = re.compile(r"\ballerg|\breactions? to\b|\breact(?:ed)? to\b|\bintoleran", re.I)
_DIAGNOSIS = re.compile(
    r"\bdiagnos[ie]s\b|\bprincipal\b|\badmitted (?:for|with)\b|\breason for (?:the )?admission\b|\bwhy .*admitted\b",
    re.I,
)
_FOLLOW_UP = re.compile(r"\bfollow[- ]?ups?\b|\bpending\b|\bappointments?\b|\boutstanding\b|\bafter discharge\b", re.I)
_WORD = re.compile(r"[a-z][a-z0-9'-]*[a-z0-9]|[a-z]", re.I)
# Words that say how a question is asked, not what it is about.
_QUESTION_WORDS = frozenset(
    """what whats what's when where which who whom whose why how is are was were be been being do does did done
    has have had having the a an any some of for on in at to from by with about and or than this that these those
    there it its he she they him her his hers their them patient patients pt pts chart notes note says say said
    tell me us please show shows list give given gets get got receive received receiving taking take takes took on
    still current currently latest last now today most recent recently ever before after anymore yet again
    value values level levels result results reading dose doses dosage performed happen happened happening
    occur occurred ever much many time times date dates day days since until during stay hospital admission
    will would should could can may might need needs needed being bed room mrn same other another also
    we our you your i my started start stop stopped continue continued still on off whether yes no not""".split()
)
_NUMBERISH = re.compile(r"^\d+$")
_PLAN_WORDS = frozenset("plan plans planned scheduled arranged recommended recommend needs follow up ups".split())


@dataclass(frozen=True)
class Answer:
    """Sentences (chart-reader Findings, section "answer"), each citing (source id, quote);
    `abstained`: no statement names what was asked; `closest`: source ids of the notes
    nearest the question (shown with an abstention, and as the notes the answer read)."""

    sentences: list[Finding]
    abstained: bool
    about_present: bool
    closest: list[str] = field(default_factory=list)
    reason: str = ""  # why it abstained, in a clinician's words


def about_present(question: str) -> bool:
    return bool(_PRESENT.search(question))


def key_words(question: str) -> list[str]:
    """What the question is about: its words less those that only say how it is asked."""
    words = [w.lower().strip("'-") for w in _WORD.findall(question)]
    return list(dict.fromkeys(w for w in words if len(w) > 1 and w not in _QUESTION_WORDS and not _NUMBERISH.match(w)))


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _names(text: str, word: str) -> bool:
    """The text names the word (or a form of it: 'echo' / 'echocardiogram' stay apart)."""
    return re.search(r"\b" + re.escape(_stem(word)) + r"[a-z]{0,4}\b", text, re.I) is not None


def _when(statement: Statement) -> datetime:
    when = statement.when
    if when is None:
        return datetime.min
    return when.replace(tzinfo=None)


def _finding(statement: Statement) -> Finding:
    return Finding("answer", statement.clean, ((statement.source_id, statement.text),))


def _as_answer(finding: Finding) -> Finding:
    return Finding("answer", finding.text, finding.cites, kind=finding.kind)


def _unique(findings: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for f in findings:
        if not any(fuzz.token_set_ratio(f.text, k.text) >= NEAR_DUPLICATE for k in kept):
            kept.append(f)
    return kept


def _ordered(statements: list[Statement], *, present: bool, rank: dict[str, int]) -> list[Finding]:
    """The best few statements: the newest when the question is about the present, otherwise
    the best ranked by retrieval, shown in the order of the stay."""
    if present:
        chosen = sorted(statements, key=lambda s: (_when(s), s.hit.note_id, -s.start), reverse=True)
        return _unique([_finding(s) for s in chosen])[:MAX_SENTENCES]
    best = sorted(statements, key=lambda s: (rank.get(s.source_id, len(rank)), -s.hit.note_id, s.start))
    picked = _unique([_finding(s) for s in best])[:MAX_SENTENCES]
    when = {(s.source_id, s.text): _when(s) for s in statements}
    return sorted(picked, key=lambda f: when.get(f.cites[0], datetime.min))


def _closest(ranked: list[str], sources: dict[str, Hit]) -> list[str]:
    seen: set[int] = set()
    closest = []
    for source_id in ranked:
        hit = sources.get(source_id)
        if hit is not None and hit.note_id not in seen:
            seen.add(hit.note_id)
            closest.append(source_id)
        if len(closest) >= MAX_CLOSEST:
            break
    return closest


def question_answer(*, question: str, sources: dict[str, Hit], ranked: list[str]) -> Answer:
    """Answer `question` from `sources` (one patient's numbered chunks); `ranked`: source ids
    in hybrid-retrieval order (best first), for the closest notes and for ordering."""
    present = about_present(question)
    closest = _closest(ranked, sources)
    rank = {source_id: i for i, source_id in enumerate(ranked)}
    statements = chart_statements(sources)
    words = key_words(question)

    def abstain(reason: str) -> Answer:
        return Answer([], True, present, closest, reason)

    def answered(found: list[Finding]) -> Answer:
        return Answer([_as_answer(f) for f in found][:MAX_SENTENCES], False, present, closest)

    drugs = drugs_in(question)
    if _ALLERGY.search(question):
        substance = [w for w in words if not _ALLERGY.search(w)]
        findings = allergies_read(statements)
        if substance:
            findings = [f for f in findings if any(_names(f.text, w) for w in substance)] or [
                f for f in findings if drugs and drugs_in(f.text) & drugs
            ]
        if not findings:
            return abstain("no note records an allergy to what was asked")
        return answered(findings)
    if drugs:
        findings = [f for f in medications_read(statements) if drugs_in(f.text) & drugs]
        if findings:
            return answered(findings)
        naming = [s for s in statements if drugs_in(s.text) & drugs and s.hit.section not in ALLERGY_SECTIONS]
        if not naming:
            return abstain("no note mentions that medication")
        return answered(_ordered(naming, present=present, rank=rank))
    if _DIAGNOSIS.search(question):
        header, problems = problems_read(statements)
        if problems:
            return answered(problems[:1])
    if _FOLLOW_UP.search(question):
        findings = follow_ups_read(statements)
        subject = [w for w in words if not _FOLLOW_UP.search(w) and w not in _PLAN_WORDS]
        narrowed = [f for f in findings if any(_names(f.text, w) for w in subject)] if subject else findings
        if narrowed or (findings and not subject):
            return answered(narrowed or findings)
    if not words:
        return abstain("the question names nothing this chart could answer")
    naming = [s for s in statements if all(_names(s.text, w) for w in words) and len(s.clean.split()) >= 2]
    if not naming:
        return abstain("no note mentions " + ", ".join(words[:3]))
    return answered(_ordered(naming, present=present, rank=rank))
