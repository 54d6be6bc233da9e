"""Assertion status with medspaCy's ConText.

Every content word of a text is a ConText target, so each mention gets the status the
sentence gives it: "no joint adhesions" makes "joint" and "adhesions" negated; "possible
pneumonia" makes "pneumonia" possible; "FAMILY HISTORY: mother with breast cancer" makes
"breast" and "cancer" about family. medspaCy's own rules are extended with the hedges,
plans and relatives that notes use and its default set lacks.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from .statements import statement_spans

_LABEL_COLON = re.compile(r"(?<!\d):|:(?!\d)")
_lock = threading.Lock()
_pipeline = None

STATUSES = ("negated", "possible", "hypothetical", "family", "historical")
_ATTRIBUTE = {
    "negated": "is_negated",
    "possible": "is_uncertain",
    "hypothetical": "is_hypothetical",
    "family": "is_family",
    "historical": "is_historical",
}
_STOP = frozenset(
    """a an the of and or to in on for with was is are be been being has have had he she it they his her its
    their this that these those at by from as but if then there here which who whom what when where so than
    too very can could would may might must shall do does did done also just only patient pt mr mrs ms
    we i you us me my your our""".split()
)
# Scope ends at a new clause: "It has drainage and there is no erythema" negates only the erythema.
# (A list joined by "and" after "no" loses its later items in claim and source alike.)
_TERMINATORS = (
    "and",
    "but",
    "however",
    "although",
    "though",
    "whereas",
    "while",
    "which",
    "who",
    # SNOMED-coded lists ("not in labor force (finding), viral sinusitis (disorder)"):
    # each tagged term is a clause of its own
    "(finding)",
    "(disorder)",
    "(situation)",
    "(procedure)",
)
# ConText rules that medspaCy's defaults lack: (category, literal, direction).
_EXTRA_RULES = (
    *[
        ("POSSIBLE_EXISTENCE", w, "FORWARD")
        for w in (
            "concern for",
            "concerning for",
            "likely",
            "most likely",
            "probable",
            "probably",
            "suspected",
            "suspect",
            "suspicion for",
            "suspicion of",
            "questionable",
            "question of",
            "may have",
            "cannot exclude",
            "cannot be excluded",
            "cannot rule out",
            "presumed",
            "presumptive",
            "versus",
            "vs",
            "differential",
            "differential diagnosis",
            "possibly",
            "maybe",
            "equivocal",
            "vs.",
            "r/o",
            "rule out",
            "ruled out for",
        )
    ],
    *[
        ("HYPOTHETICAL", w, "FORWARD")
        for w in (
            "will",
            "plan to",
            "plan for",
            "planned",
            "plan is to",
            "plans to",
            "recommend",
            "recommended",
            "recommends",
            "recommendation",
            "consider",
            "considering",
            "to be scheduled",
            "scheduled for",
            "should",
            "to start",
            "to begin",
            "to obtain",
            "pending",
            "in case",
            "would",
            "may need",
            "needs",
            "need for",
            "awaiting",
            "to follow up",
            "follow up with",
            "unless",
            "to undergo",
        )
    ],
    *[
        ("FAMILY", w, "BIDIRECTIONAL")
        for w in (
            "mother",
            "father",
            "sister",
            "brother",
            "aunt",
            "uncle",
            "grandmother",
            "grandfather",
            "son",
            "daughter",
            "sibling",
            "siblings",
            "maternal",
            "paternal",
            "cousin",
            "family history",
            "fhx",
            "fh",
            "mom",
            "dad",
            "parents",
            "grandparents",
        )
    ],
)


def _pipeline_get():
    """The medspaCy pipeline, loaded once per process (about 0.3 s; no network, no model file)."""
    global _pipeline
    with _lock:
        if _pipeline is None:
            from loguru import logger as loguru_logger

            loguru_logger.disable("PyRuSH")  # logs sentences at DEBUG: note text must not reach logs
            loguru_logger.disable("medspacy")
            import medspacy
            from medspacy.context import ConTextRule

            nlp = medspacy.load(enable=["medspacy_context"])
            context = nlp.get_pipe("medspacy_context")
            # No max_scope: medspaCy's tuple_overlaps misses a scope that lies inside a terminator's
            # (sentence-long) scope, so a shortened scope would run past "and"; the sentence ends it.
            context.add(
                [ConTextRule(literal, category, direction=direction) for category, literal, direction in _EXTRA_RULES]
            )
            context.add([ConTextRule(literal, "TERMINATE", direction="TERMINATE") for literal in _TERMINATORS])
            _pipeline = nlp
        return _pipeline


@dataclass(frozen=True)
class Mention:
    """One content word and the status the sentence gives it."""

    word: str  # lower case
    start: int
    end: int
    negated: bool = False
    possible: bool = False
    hypothetical: bool = False
    family: bool = False
    historical: bool = False

    def status(self) -> frozenset[str]:
        return frozenset(s for s in STATUSES if getattr(self, s))


@lru_cache(maxsize=8192)
def mentions(text: str) -> tuple[Mention, ...]:
    """Every content word of ``text`` (one sentence or clause) with its ConText status."""
    from spacy.tokens import Span

    nlp = _pipeline_get()
    # A label's colon ("GU: No rash") reads as a clause break: medspaCy's ": no" rule would
    # otherwise negate the label backwards and hide the "no" that negates the rash. Times
    # ("10:30") keep their colon. Same length, so offsets hold.
    doc = nlp.make_doc(_LABEL_COLON.sub(";", text))
    # ConText scopes end at a sentence. Boundaries come from ClinSum's chunker splitter, not
    # PyRuSH: 0.015 vs 5.2 ms per chunk with 0.95 agreement (python -m bench sentences).
    # A semicolon ends a scope too: "Thrombocytopenia: sepsis-related; hold prophylaxis" must
    # not read the thrombocytopenia as negated by "prophylaxis" (a ConText negation cue).
    starts = {start for start, _ in statement_spans(text)}
    for token in doc:
        token.is_sent_start = token.i == 0 or token.idx in starts or doc[token.i - 1].text == ";"
    targets = [
        Span(doc, t.i, t.i + 1, label="WORD") for t in doc if t.is_alpha and len(t.text) > 1 and t.lower_ not in _STOP
    ]
    doc.ents = targets
    doc = nlp.get_pipe("medspacy_context")(doc)
    return tuple(
        Mention(
            e.text.lower(),
            e.start_char,
            e.end_char,
            **{status: bool(getattr(e._, attribute)) for status, attribute in _ATTRIBUTE.items()},
        )
        for e in doc.ents
    )
