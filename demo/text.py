"""Small wording helpers the note writers share."""

from __future__ import annotations

import re
from datetime import datetime

# A template token: {pron}, {Side}, {med:furosemide}, {lab:Creatinine}.
TOKEN = re.compile(r"\{(\w+)(?::([^{}]+))?\}")


def article(number: int) -> str:
    """'an 82-year-old', 'a 72-year-old'."""
    return "an" if str(number).startswith("8") or number in (11, 18) else "a"


def mdy(when: datetime) -> str:
    return f"{when:%m/%d/%Y}"


def lower_first(text: str) -> str:
    """Lowercase the first letter unless the first word is an acronym (COPD, DKA)."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def join_words(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def strip_tokens(template: str) -> str:
    """Plain wording for a template whose medication is not active (drug name, no dose)."""
    return TOKEN.sub(lambda m: m.group(2) or m.group(1), template)
