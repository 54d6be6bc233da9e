"""Helpers shared by the case builders: case-preserving replacement, rule application, lexicons."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """A claim built from a sentence. quotes: the citation quotes; empty means the whole sentence."""

    claim: str
    quotes: tuple[str, ...] = ()


Replacement = str | list[str] | Callable[[re.Match, random.Random], str | None]


@dataclass(frozen=True)
class Rule:
    """Replace a match of `pattern` by `replacement` (a string, a list to choose from, or a function)."""

    pattern: re.Pattern
    replacement: Replacement
    keep_case: bool = True

    def apply(self, match: re.Match, rng: random.Random) -> str | None:
        new = self.replacement
        if callable(new):
            new = new(match, rng)
        elif isinstance(new, list):
            new = rng.choice(new)
        if new is None:
            return None
        return case_like(match.group(0), new) if self.keep_case else new


def rules(table: Iterable[tuple[str, Replacement]], flags: int = re.I, keep_case: bool = True) -> list[Rule]:
    return [Rule(re.compile(pattern, flags), new, keep_case) for pattern, new in table]


def case_like(old: str, new: str) -> str:
    """`new` written in the case of `old`: ALL CAPS, Capitalized, or as given."""
    letters = [c for c in old if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters) and not new.isupper():
        return new.upper()
    if letters and old[:1].isupper() and new[:1].islower():
        return new[:1].upper() + new[1:]
    return new


def rule_apply(
    sentence: str, table: list[Rule], rng: random.Random, guard: Callable[[str, re.Match], bool] | None = None
) -> str | None:
    """Apply one randomly chosen applicable rule at one randomly chosen match; None if none applies."""
    options = [
        (rule, m) for rule in table for m in rule.pattern.finditer(sentence) if guard is None or guard(sentence, m)
    ]
    rng.shuffle(options)
    for rule, match in options:
        new = rule.apply(match, rng)
        if new is not None and new != match.group(0):
            return sentence[: match.start()] + new + sentence[match.end() :]
    return None


def squash(text: str) -> str:
    return " ".join(text.split())


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the word is an acronym (HR, CT, BUN)."""
    if len(text) > 1 and text[1:2].isupper() or re.match(r"I\b", text):
        return text
    return text[:1].lower() + text[1:]


def end_period(text: str) -> str:
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def strip_end(text: str) -> str:
    return text.rstrip().rstrip(".;:, ")


# A section label or list marker at the start of a sentence ("PLAN:", "- ", "2. ", "P:").
LABEL = re.compile(r"^\s*(?:[-*\u2022]\s*|\d{1,2}[.)](?=\s)\s*)?(?:[A-Z][A-Za-z /&]{0,40}:\s*)?")
LIST_MARKER = re.compile(r"^\s*(?:[-*\u2022]\s*|\d{1,2}[.)](?=\s)\s*)?")

NEGATION = re.compile(
    r"\b(no|not|denies|denied|deny|without|negative|absent|never|none|neither|nor|"
    r"free of|absence of|ruled out)\b|n't\b",
    re.I,
)
HEDGE = re.compile(
    r"\b(possible|possibly|probable|probably|likely|suspected|suspect|questionable|presumed|"
    r"rule out|r/o|concern for|concerning for|suspicious for|cannot exclude|may|might|could|"
    r"versus|differential)\b|\?",
    re.I,
)

# Drugs and therapies, for "is this sentence about a treatment?" checks.
DRUG_WORDS = """acetaminophen albuterol allopurinol alprazolam amiodarone amlodipine amoxicillin ampicillin apixaban
aspirin atenolol atorvastatin azithromycin bactrim bumetanide bumex captopril carvedilol cefazolin cefepime
ceftriaxone cephalexin cipro ciprofloxacin citalopram clindamycin clonazepam clopidogrel colace coumadin
dexamethasone diazepam digoxin dilaudid diltiazem diphenhydramine dobutamine docusate dopamine doxycycline
enalapril enoxaparin epinephrine escitalopram esomeprazole famotidine fentanyl flagyl fluconazole fluoxetine
furosemide gabapentin glipizide glyburide haldol haloperidol heparin hydralazine hydrochlorothiazide
hydrocodone hydromorphone ibuprofen insulin ipratropium keflex ketorolac labetalol lasix levofloxacin
levothyroxine levophed lisinopril lopressor lorazepam losartan lovenox magnesium meropenem metformin
methylprednisolone metoclopramide metoprolol metronidazole midazolam morphine naloxone neosynephrine
nitroglycerin norepinephrine norvasc ondansetron oxycodone pantoprazole penicillin percocet phenylephrine
phenytoin plavix potassium prednisone propofol protonix ranitidine reglan rocephin simvastatin solumedrol
spironolactone synthroid tylenol unasyn vancomycin vanco versed vicodin warfarin xarelto zofran zosyn
kayexalate antibiotics antibiotic medication medications meds pressors vasopressors drip infusion
diuretics diuresis steroids anticoagulation coumadin tpn feeds fluids ivf oxygen o2 bipap sedation""".split()
MED_CONTEXT = re.compile(
    r"\b(" + "|".join(sorted(set(DRUG_WORDS), key=len, reverse=True)) + r")\b|"
    r"\b\w+(?:olol|pril|sartan|statin|parin|xaban|azole|cillin|mycin|floxacin|semide|"
    r"prazole|tidine|formin)\b|\d\s?(?:mg|mcg|units)\b",
    re.I,
)

# Procedures and tests, for "recommend X" / "consider X" -> "X was done".
PROCEDURE = re.compile(
    r"\b(?:ct|cta|mri|mra|x-?rays?|cxr|ultrasound|echo|echocardiogram|ekg|ecg|eeg|emg|egd|ercp|colonoscopy|"
    r"endoscopy|biopsy|surgery|repair|excision|removal|resection|drainage|aspiration|catheterization|"
    r"cath|stress test|scan|angiogram|angiography|bronchoscopy|thoracentesis|paracentesis|lumbar puncture|"
    r"dialysis|transfusion|injection|arthroscopy|debridement|amputation|fusion|replacement|ablation|"
    r"mammogram|labs?|cultures?|panel|study|studies|evaluation|consult(?:ation)?|physical therapy|"
    r"\w+ectomy|\w+oscopy|\w+plasty|\w+otomy|\w+ostomy|\w+graphy|\w+gram|\w+pexy)\b",
    re.I,
)

NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]
