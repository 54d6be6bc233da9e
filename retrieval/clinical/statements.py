"""Statements of a note: sentences, and the lines of lists written without markers.

ClinSum's chunker splits sentences and marked list items ("- ", "2. "). Notes also list
medicines, diagnoses and results one per line with no marker and no full stop; each such line
is a statement of its own, so "enoxaparin 40 mg SC daily" on one line is not read together
with "furosemide 20 mg PO daily" on the next.
"""

from __future__ import annotations

import re
from functools import lru_cache

from retrieval.chunking import sentence_spans

SHORT_LINE = 60  # a line shorter than this that ends without punctuation is a list line, not wrapped prose
_LABEL_LINE = re.compile(r"[ \t]*[A-Za-z][A-Za-z /&()-]{0,40}:")


@lru_cache(maxsize=8192)
def statement_spans(text: str) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        cut = start
        position = text.find("\n", start, end)
        while position != -1:
            line = text[cut:position].rstrip()
            following = text[position + 1 : end]
            if line and (
                line.endswith(":")
                or _LABEL_LINE.match(following)
                or (
                    len(line) - len(line.lstrip()) < 8
                    and len(line.strip()) < SHORT_LINE
                    and line[-1] not in ",;-("
                    and not following[:1].islower()
                )
            ):
                spans.append((cut, cut + len(line)))
                cut = position + 1
                while cut < end and text[cut].isspace():
                    cut += 1
            position = text.find("\n", position + 1, end)
        if cut < end:
            spans.append((cut, end))
    return tuple((a, b) for a, b in spans if b > a)
