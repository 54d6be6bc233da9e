"""Plain-language checks for patient-facing drafts: jargon that needs explaining, and the
reading grade (Flesch-Kincaid).

Why hand-written: textstat >= 0.7.4 fetches the CMU dictionary through nltk at run time (no
internet here), and 0.7.3 needs pkg_resources; pyphen hyphenates rather than counting
syllables. The vowel-group count below is the usual approximation; the grade it gives is a
guide for the nurse, shown next to the target, not a gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations and terms of clinical jargon -> an everyday explanation. Matched as whole
# words; abbreviations (upper case here) match in any case only where unambiguous.
GLOSSARY: dict[str, str] = {
    "PO": "by mouth",
    "BID": "twice a day",
    "TID": "three times a day",
    "QID": "four times a day",
    "QD": "once a day",
    "QHS": "at bedtime",
    "HS": "at bedtime",
    "PRN": "only when needed",
    "Q4H": "every 4 hours",
    "Q6H": "every 6 hours",
    "Q8H": "every 8 hours",
    "Q12H": "every 12 hours",
    "IV": "into a vein",
    "IM": "into a muscle",
    "SQ": "under the skin",
    "SC": "under the skin",
    "SL": "under the tongue",
    "NPO": "nothing to eat or drink",
    "ADLS": "everyday activities",
    "HTN": "high blood pressure",
    "CHF": "heart failure",
    "CAD": "heart artery disease",
    "MI": "heart attack",
    "COPD": "long-term lung disease",
    "DM": "diabetes",
    "NIDDM": "type 2 diabetes",
    "CKD": "long-term kidney disease",
    "UTI": "urine infection",
    "DVT": "blood clot in a leg vein",
    "PE": "blood clot in the lungs",
    "SOB": "short of breath",
    "DOE": "short of breath when active",
    "CP": "chest pain",
    "N/V": "feeling sick and throwing up",
    "AFIB": "irregular heartbeat",
    "INR": "blood clotting test",
    "CBC": "blood count test",
    "BMP": "blood chemistry test",
    "ECG": "heart tracing",
    "EKG": "heart tracing",
    "CXR": "chest X-ray",
    "CT": "detailed X-ray scan",
    "MRI": "magnet scan",
    "ER": "emergency department",
    "ED": "emergency department",
    "PCP": "your regular doctor",
    "F/U": "follow-up visit",
    "C/O": "complains of",
    "R/O": "checking for",
    "S/P": "after",
    "W/": "with",
    "NKDA": "no known drug allergies",
    "HPI": "the story of this illness",
    "IVP": "given quickly into a vein",
    "PT": "patient",
    "DC'D": "stopped",
    "BS": "bowel sounds",
    "I&O": "fluids in and out",
    "PRBC": "blood transfusion",
    "FFP": "plasma transfusion",
    "OOB": "out of bed",
    "WBAT": "put as much weight on it as is comfortable",
    "hypertension": "high blood pressure",
    "hypotension": "low blood pressure",
    "edema": "swelling",
    "oedema": "swelling",
    "dyspnea": "shortness of breath",
    "tachycardia": "fast heartbeat",
    "bradycardia": "slow heartbeat",
    "febrile": "having a fever",
    "afebrile": "no fever",
    "ambulate": "walk",
    "ambulating": "walking",
    "ambulation": "walking",
    "analgesic": "pain medicine",
    "analgesia": "pain relief",
    "anticoagulation": "blood thinning",
    "anticoagulant": "blood thinner",
    "diuretic": "water pill",
    "emesis": "throwing up",
    "nausea": "feeling sick to your stomach",
    "syncope": "fainting",
    "pruritus": "itching",
    "erythema": "redness",
    "incision": "surgical cut",
    "sutures": "stitches",
    "hematoma": "bruise with swelling",
    "hyperglycemia": "high blood sugar",
    "hypoglycemia": "low blood sugar",
    "renal": "kidney",
    "hepatic": "liver",
    "cardiac": "heart",
    "pulmonary": "lung",
    "bilateral": "on both sides",
    "acute": "sudden",
    "chronic": "long-lasting",
    "benign": "not dangerous",
    "prophylaxis": "prevention",
    "exacerbation": "flare-up",
    "titrate": "adjust the dose",
    "sublingual": "under the tongue",
}
_TERMS = sorted(GLOSSARY, key=len, reverse=True)
_PATTERN = re.compile(r"(?<![\w/&'])(" + "|".join(re.escape(t) for t in _TERMS) + r")(?![\w/&]|'\w)", re.IGNORECASE)
_ABBREVIATION = re.compile(r"^[A-Z0-9/&']+$")
# Abbreviations that are also English words (or name them): counted only in capitals.
_LOWER_AMBIGUOUS = frozenset({"im", "sc", "sl", "hs", "er", "ed", "cp", "pe", "mi", "ct", "dm", "iv", "bs"})
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)|\n+")
_VOWEL_GROUP = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class JargonTerm:
    term: str  # as written in the text
    meaning: str


def jargon_find(text: str) -> list[JargonTerm]:
    """Jargon in `text`, each term once, in order of appearance. A short abbreviation written
    in lower case ("po", "ed") counts only where it cannot be an ordinary word."""
    found: dict[str, JargonTerm] = {}
    for match in _PATTERN.finditer(text):
        written = match.group(1)
        key = next(t for t in _TERMS if t.lower() == written.lower())
        if _ABBREVIATION.match(key) and written != written.upper() and written.lower() in _LOWER_AMBIGUOUS:
            continue
        if key.lower() not in found:
            found[key.lower()] = JargonTerm(written, GLOSSARY[key])
    return list(found.values())


def jargon_unexplained(text: str) -> list[JargonTerm]:
    """Jargon whose explanation does not appear in the same text (a nurse who wrote
    "twice a day (BID)" has explained it)."""
    lowered = text.lower()
    return [t for t in jargon_find(text) if t.meaning.lower() not in lowered]


def syllables(word: str) -> int:
    word = word.lower()
    count = len(_VOWEL_GROUP.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1  # a silent final e
    return max(1, count)


def reading_grade(text: str) -> float | None:
    """Flesch-Kincaid grade level of `text`; None for text too short to grade."""
    words = _WORD.findall(text)
    if len(words) < 10:
        return None
    sentences = max(1, len([s for s in _SENTENCE_END.split(text) if _WORD.search(s)]))
    total = sum(syllables(w) for w in words)
    return round(0.39 * len(words) / sentences + 11.8 * total / len(words) - 15.59, 1)
