"""Summary facts: do chart-review summaries state what the chart's ground truth says?

    .venv/bin/python -m bench summary_facts [--patients 20] [--mtsamples N] [--skip-synthea] [--show MRN]
                                            [--details] [--keep-index] [--repeats 3]

Two variants in the same run, scored the same way from the claims a clinician is shown (a
verdict not in the app's HIDDEN_VERDICTS: not unsupported, not out of date; claims in the
"possibly missing" box count as shown and are counted apart), each as (section, text, cited
note ids):

- baseline: the frozen extractive backend (bench/baseline/extractive_v2.py) fed with
  `sources_retrieve(...)` over the five sections as they were at that commit, each claim checked
  with `clinsum.summaries.verification.claim_verify`;
- current: the real service, `summary_request` + `summary_run`, then the summary's Claim rows.

Ground truth nobody in ClinSum wrote for itself:

1. the demo ward (the top-level demo package, seed 7 as `seed_demo` uses): PatientFacts per MRN
   (principal diagnosis, medication courses with stop times, allergies, procedures, follow-ups),
   restricted to what at least one of the chart's notes mentions (a summary cannot quote the rest);
2. MTSamples discharge summaries (../shared/data/mtsamples/*discharge-summary*), one note per
   chart: the first item of DISCHARGE DIAGNOSIS/DIAGNOSES / FINAL DIAGNOSIS (files without one
   are skipped and counted) and the drugs of DISCHARGE MEDICATIONS, if any;
3. latency only: the demo charts with >= 35 notes (the ward's cap is 40) and the largest
   Synthea chart (synthea-fhir NDJSON, 708 notes). The allergy-conflict check runs on every
   chart summarised, plus nursing-notes charts whose notes hold both an NKDA-type statement and a
   listed allergy.

Matching is written from clinical sense, not from what the summaries print: a phrase is
mentioned when most of its content words (crude stems, a few expanded abbreviations) are in
the claim; a drug by its generic name, its base name without the salt, or a brand (from the
drug_named_entity_recognition package when installed, else a small table). A drug in a claim
that says it was stopped, discontinued, held or completed, or that it was switched to another
drug, is not a current-medication claim.

Indexing (CPU embeddings, minutes) is done before timing and printed, not counted.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.stack import DATA, bench_reader, bench_setup, charts_reset, machine

DB_NAME = "clinsum_bench_summary_facts"
DEMO_SEED = 7  # what `manage.py seed_demo` uses
MTSAMPLES_AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
LONG_CHART_NOTES = 35  # "a 40-note chart": the demo ward caps charts at 40 notes

TARGETS = {
    "principal": ">= 0.95",
    "med_recall": ">= 0.95",
    "med_precision": ">= 0.95",
    "stopped_as_current": "0",
    "allergy_recall": "1.0",
    "conflict": "every chart",
    "follow_up_recall": ">= 0.9",
    "furniture": "0",
    "procedures": "(no target)",
    "p95_40": "< 1.5 s",
    "synthea": "< 5 s",
}

# --------------------------------------------------------------------------------------------
# Text: normalise, content words, "is this phrase mentioned in that text"
# --------------------------------------------------------------------------------------------

_STOPWORDS = frozenset(
    """a an the of and or to in on for with without by at from as into onto per via is are was were be been
    being has have had he she his her it its this that these those their there than then also up out over
    under after before during since until about patient pt mr mrs ms s p status post due secondary""".split()
)
# Abbreviations clinicians write for the phrases a truth spells out (and the reverse).
_ABBREVIATIONS = {
    "chf": "congestive heart failure",
    "copd": "chronic obstructive pulmonary disease",
    "mrsa": "methicillin resistant staphylococcus aureus",
    "uti": "urinary tract infection",
    "cva": "cerebrovascular accident",
    "nstemi": "non st elevation myocardial infarction",
    "stemi": "st elevation myocardial infarction",
    "mi": "myocardial infarction",
    "dka": "diabetic ketoacidosis",
    "gi": "gastrointestinal",
    "ugib": "upper gastrointestinal bleed",
    "aki": "acute kidney injury",
    "afib": "atrial fibrillation",
    "rvr": "rapid ventricular response",
    "lle": "left lower extremity",
    "rle": "right lower extremity",
    "rll": "right lower lobe",
    "lll": "left lower lobe",
    "tte": "transthoracic echocardiogram",
    "echo": "echocardiogram",
    "egd": "esophagogastroduodenoscopy",
    "cvc": "central venous catheter",
    "ij": "internal jugular",
    "prbc": "packed red blood cells",
    "prbcs": "packed red blood cells",
    "pcp": "primary care",
    "htn": "hypertension",
    "dm": "diabetes mellitus",
    "esrd": "end stage renal disease",
    "ckd": "chronic kidney disease",
    "cath": "catheterization",
    "pci": "percutaneous coronary intervention",
    "cxr": "chest x ray",
    "f u": "follow up",
    "fu": "follow up",
    "pft": "pulmonary function testing",
    "pfts": "pulmonary function testing",
    "sob": "shortness of breath",
    "pna": "pneumonia",
    "cad": "coronary artery disease",
    "bph": "benign prostatic hyperplasia",
    "osa": "obstructive sleep apnea",
}
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?%?")


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, abbreviations spelled out: 'CHF exac.' -> 'congestive heart failure exac'."""
    text = text.lower().replace("f/u", "f u").replace("s/p", "s p").replace("-", " ").replace("/", " ")
    words = _WORD.findall(text)
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def _stem(word: str) -> str:
    """Crude, tolerant stem: 'bleeding'/'bleed', 'diabetic'/'diabetes', 'transfused'/'transfusion'."""
    if word[0].isdigit():
        return word
    return word[:6] if len(word) > 6 else (word[:-1] if len(word) > 3 and word.endswith("s") else word)


def content_stems(text: str) -> list[str]:
    return [_stem(w) for w in normalise(text).split() if w not in _STOPWORDS]


def coverage(phrase: str, text: str) -> float:
    """Fraction of the phrase's content words that the text has."""
    wanted = content_stems(phrase)
    if not wanted:
        return 0.0
    have = set(content_stems(text))
    return sum(w in have for w in wanted) / len(wanted)


def mentions(text: str, phrase: str, *, threshold: float = 0.8) -> bool:
    """The text names the phrase: most of its content words, or, for a qualified diagnosis
    ('Acute ischemic stroke, left MCA territory'), all of the part before the qualifier."""
    if coverage(phrase, text) >= threshold:
        return True
    core = re.split(r"[,(]", phrase, maxsplit=1)[0]
    return core != phrase and len(content_stems(core)) >= 2 and coverage(core, text) >= 1.0


# --------------------------------------------------------------------------------------------
# Drugs: names, brands, and whether a claim presents a drug as current
# --------------------------------------------------------------------------------------------

_SALTS = frozenset("succinate tartrate besylate maleate hydrochloride hcl sulfate sodium infusion drip".split())
# Brands and combinations the package does not cover (or when it is not installed).
_EXTRA_ALIASES = {
    "ipratropium-albuterol": ("duoneb", "ipratropium", "combivent"),
    "piperacillin-tazobactam": ("zosyn", "pip tazo", "piperacillin"),
    "sodium zirconium cyclosilicate": ("lokelma",),
    "sodium chloride 0.9%": ("normal saline", "0.9% saline", "0.9% sodium chloride", "saline"),
    "insulin regular": ("regular insulin", "insulin drip", "insulin infusion"),
    "heparin infusion": ("heparin drip", "heparin gtt"),
    "furosemide": ("lasix",),
    "metoprolol succinate": ("toprol",),
    "metoprolol tartrate": ("lopressor",),
    "acetaminophen": ("tylenol", "apap", "paracetamol"),
    "enoxaparin": ("lovenox",),
    "pantoprazole": ("protonix",),
    "omeprazole": ("prilosec",),
    "apixaban": ("eliquis",),
    "clopidogrel": ("plavix",),
    "ticagrelor": ("brilinta",),
    "atorvastatin": ("lipitor",),
    "insulin glargine": ("lantus", "glargine"),
    "insulin lispro": ("humalog", "lispro"),
    "norepinephrine": ("levophed",),
    "ondansetron": ("zofran",),
    "tiotropium": ("spiriva",),
    "potassium chloride": ("kcl", "k dur", "klor con"),
    "diltiazem": ("cardizem",),
    "sertraline": ("zoloft",),
    "tamsulosin": ("flomax",),
    "cefazolin": ("ancef",),
    "ceftriaxone": ("rocephin",),
    "cephalexin": ("keflex",),
    "amlodipine": ("norvasc",),
    "levothyroxine": ("synthroid",),
}
# Package hits that are lab analytes or diet words in a note, not an order.
_NOT_AN_ORDER = frozenset(
    "oxygen water sodium potassium magnesium calcium glucose chloride succinic acid hydrogen nitrogen "
    "carbon dioxide alcohol ethanol sulfates anti-bacterial agents".split()
)
# A generic drug-name shape, for "some other drug" when the package is not installed.
_DRUG_SHAPE = re.compile(
    r"\b[a-z]+(?:olol|pril|sartan|statin|parin|xaban|azole|cillin|mycin|floxacin|cycline|semide|thiazide|"
    r"dipine|prazole|tidine|gliptin|formin|terol|tropium|sone|olone|azepam|codone|morphone|oxetine|apine)\b"
)

try:  # optional: brand -> generic from a drug dictionary
    from drug_named_entity_recognition import find_drugs as _find_drugs
except ImportError:  # pragma: no cover - the small table above is used instead
    _find_drugs = None


# Every dictionary entry seen, by name: a truth drug taken from the dictionary ('fluticasone and
# salmeterol', read from "Advair 250/50") keeps its brands even where its name's words alone
# would find other entries.
_SEEN_ENTRIES: dict[str, dict] = {}


def _package_entries(text: str) -> list[tuple[dict, int, int]]:
    """Drug dictionary hits on the words of `text`: (entry, first word, end word)."""
    if _find_drugs is None:
        return []
    words = re.findall(r"[A-Za-z][A-Za-z0-9-]*", text)
    hits = _find_drugs(words, is_ignore_case=True) if words else []
    for entry, _, _ in hits:
        _SEEN_ENTRIES.setdefault(entry.get("name", "").lower(), entry)
    return hits


def _clean_synonyms(entry: dict) -> set[str]:
    names = {entry.get("name", "").lower(), *[s.lower() for s in entry.get("synonyms", [])]}
    return {
        n
        for n in names
        if 4 <= len(n) <= 30
        and re.fullmatch(r"[a-z][a-z -]*", n)
        and len(n.split()) <= 3
        and not set(n.split()) & {"acid", "salt", "anhydrous", "monohydrate"}
    }


def drug_aliases(name: str) -> set[str]:
    """How notes may name a drug: 'metoprolol succinate' -> metoprolol succinate, metoprolol,
    toprol xl, lopressor, ... (normalised)."""
    base = name.lower().strip()
    aliases = {base, *_EXTRA_ALIASES.get(base, ())}
    words = base.replace("-", " ").split()
    while len(words) > 1 and words[-1] in _SALTS:
        words = words[:-1]
        aliases.add(" ".join(words))
    entries = [entry for entry, _, _ in _package_entries(base)]
    if base in _SEEN_ENTRIES:
        entries.append(_SEEN_ENTRIES[base])
    for entry in entries:
        if entry.get("name", "").lower() not in _NOT_AN_ORDER:
            aliases |= _clean_synonyms(entry)
    return {normalise(a) for a in aliases if a} - {""}


def _find_phrase(phrase: str, text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", text)]


# A drug named before one of these was replaced by the drug named after it.
_SWITCH = re.compile(
    r"\b(?:transitioned|switched|changed|converted|narrowed|stepped down|de ?escalated) (?:over )?to\b"
)
_STOPPED = re.compile(
    r"\b(?:stopped|discontinued|d c d|dc d|held|holding|on hold|hold(?! parameters| for| if)|completed|finished|"
    r"no longer|weaned off|"
    r"taken off|now off|remains off|tapered off|off of|not (?:to )?(?:restart|resume|take|give|use)|avoid)\b"
)
_STARTED = re.compile(
    r"\b(?:started|start|begun|initiated|resumed|restarted|continue|continued|continues|new|now on)\b"
)
_STARTED_RAW = re.compile(
    r"\b(?:started|start|begun|initiated|resumed|restarted|continued?|continues|new|changed|"
    r"dose changed|home medication)\b",
    re.I,
)


@dataclass
class DrugMention:
    drug: str  # the chart's truth name, or "other:<name>" for a drug the chart's truth lacks
    current: bool  # False: the claim says it was stopped, held, completed or replaced


def drugs_named(text: str, lexicon: dict[str, set[str]], *, combine=any) -> list[DrugMention]:
    """The drugs a claim names, each with whether the claim presents it as current.

    `lexicon` maps the chart's truth drugs (current and stopped) to their aliases; a drug the
    dictionary knows but the truth lacks is "other:<name>". Overlapping names resolve to the
    longest ('heparin infusion' over 'heparin'). Within a clause (split at ';' and sentence
    ends) a drug takes the status of the nearest cue: a stop word (stopped, held, completed ...)
    makes it not current, a start word (started, continue ...) current; a drug named before
    "switched to <another drug>" is not current. No cue: current (a medication-list line).
    A drug named more than once is current if any mention is (`combine=all`: if every one is)."""
    found: dict[str, list[bool]] = defaultdict(list)
    # Clauses: at ';', sentence ends, and a comma before an order verb ("..., hold lisinopril").
    for clause in re.split(
        r";|(?<![0-9])\.(?:\s|$)|,\s*(?=(?:hold|continue|stop|start|resume|discontinue)\b)", text, flags=re.I
    ):
        # A list line's label "(started 11/02/2026)", "(NEW)", "(dose changed ...)" says when, not
        # whether: start words inside parentheses are no cue (a "(held)" still is).
        clause = re.sub(r"\([^)]*\)", lambda m: _STARTED_RAW.sub(lambda w: " " * len(w.group(0)), m.group(0)), clause)
        for drug, current in _clause_drugs(normalise(clause), clause, lexicon):
            found[drug].append(current)
    return [DrugMention(drug, combine(states)) for drug, states in found.items()]


def _clause_drugs(norm: str, raw: str, lexicon: dict[str, set[str]]) -> list[tuple[str, bool]]:
    spans: list[tuple[int, int, str]] = []
    exact: set[tuple[int, str]] = set()  # (start, drug) where the drug's own name was written
    for drug, aliases in lexicon.items():
        for alias in aliases:
            found = _find_phrase(alias, norm)
            spans += [(s, e, drug) for s, e in found]
            if alias == normalise(drug):
                exact |= {(s, drug) for s, _ in found}
    for entry, _, _ in _package_entries(raw):
        name = entry.get("name", "").lower()
        if name in _NOT_AN_ORDER or any(normalise(name) in aliases for aliases in lexicon.values()):
            continue
        for alias in _clean_synonyms(entry) | {name}:
            spans += [(s, e, f"other:{name}") for s, e in _find_phrase(normalise(alias), norm)]
    if _find_drugs is None:
        known = {a for aliases in lexicon.values() for a in aliases}
        spans += [
            (m.start(), m.end(), f"other:{m.group(0)}") for m in _DRUG_SHAPE.finditer(norm) if m.group(0) not in known
        ]
    # The longest name wins where names overlap; at equal length, the drug whose own name it is
    # ('heparin 5000 units' is the heparin course, not the heparin infusion).
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0]), (s[0], s[2]) not in exact))
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if not any(k[0] <= span[0] < k[1] or span[0] <= k[0] < span[1] for k in kept):
            kept.append(span)
    switch = _SWITCH.search(norm)
    cues = [(m.start(), m.end(), False) for m in _STOPPED.finditer(norm)]
    cues += [(m.start(), m.end(), True) for m in _STARTED.finditer(norm)]
    result = []
    for start, end, drug in kept:
        after = [c for c in cues if c[0] >= end]
        before = [c for c in cues if c[1] <= start]
        if switch and end <= switch.start() and any(s >= switch.end() for s, _, _ in kept):
            result.append((drug, False))  # replaced by the drug named after "switched to"
        elif after:  # the predicate follows its drug: "X was stopped", "X started"
            result.append((drug, min(after)[2]))
        elif before:  # "Continue X", "Stopped: X"
            result.append((drug, max(before)[2]))
        else:
            result.append((drug, True))
    return result


# --------------------------------------------------------------------------------------------
# Allergies, furniture
# --------------------------------------------------------------------------------------------

_ALLERGY_ALIASES = {
    "penicillin": ("pcn", "penicillins"),
    "sulfa drugs": ("sulfa", "sulfonamide"),
    "iodinated contrast": ("contrast", "iv contrast", "contrast dye", "iodine"),
}
_NO_ALLERGIES = re.compile(
    r"\bnkda\b|\bnka\b|no known (?:drug )?allerg|no allergies|allergies:\s*none\b|"
    r"none reported|no drug allergies",
    re.I,
)
_LISTED_ALLERGY = re.compile(
    r"\ballergic to (?!nothing)\w+|\ballerg(?:y|ies) to (?!nothing)\w+|"
    r"^\W*(?:drug )?allerg(?:y|ies)\W*:?[ \t]*(?!\s*(?:nkda|nka|none|no |unknown|not known|n/?a\b))[A-Za-z]\w+",
    re.I | re.M,
)
_NO_ALLERGIES_CLAIM = re.compile(r"\bnkda\b|\bnka\b|no known (?:drug )?allerg|no allergies|no drug allergies", re.I)


def allergy_named(text: str, substance: str) -> bool:
    norm = normalise(text)
    names = {normalise(substance), *(normalise(a) for a in _ALLERGY_ALIASES.get(substance.lower(), ()))}
    return any(_find_phrase(n, norm) for n in names)


def allergy_conflict_in(note_texts: list[str]) -> bool:
    """The chart says 'no known allergies' somewhere and lists an allergy somewhere."""
    text = "\n".join(note_texts)
    if not _NO_ALLERGIES.search(text):
        return False
    listed = [m.group(0) for m in _LISTED_ALLERGY.finditer(text)]
    return any(not _NO_ALLERGIES.search(item) for item in listed)


# Note furniture: what a note needs and a summary does not.
FURNITURE: dict[str, re.Pattern] = {
    "signature": re.compile(
        r"electronically signed|^\W*(?:signed|dictated|transcribed|d:|t:)\b|"
        r"^[A-Z][a-z]+(?:[ -][A-Z][a-z'-]+)+,\s*(?:MD|RN|DO|NP|PA|PA-C|LPN|CNA)\b\.?\s*$|"
        r"\bseen and discussed with\b.*\battending",
        re.I | re.M,
    ),
    "seen and examined": re.compile(r"\bseen and examined\b", re.I),
    "discussed with nursing": re.compile(r"\bdiscussed with nursing\b", re.I),
    "date of service": re.compile(r"\bdate of service\b", re.I),
    "attending:": re.compile(r"\battending:|\bunit:\s*\w+\s*$|\brequesting physician:", re.I),
    # "# Allergies", "MEDICATIONS:", "DISCHARGE SUMMARY" (not a lone "NKDA" or "COPD").
    "bare header": re.compile(
        r"^\W*#+\s*[\w /&-]{1,40}:?\s*$|^\W*[A-Z][A-Z0-9 /&()-]{1,40}:\s*$|"
        r"^\W*[A-Z]{2,}(?: [A-Z&/-]{2,})+\s*$"
    ),
    "return to the ED": re.compile(r"\breturn to the (?:emergency department|er|ed)\b", re.I),
    "call light / safety rounding": re.compile(
        r"\bcall light (?:with)?in reach\b|\bbed (?:low and locked|alarm on)\b|\bhourly rounding\b|"
        r"\bfall precautions in place\b",
        re.I,
    ),
    "continue POC": re.compile(r"\bcontinue poc\b", re.I),
    "consult courtesy": re.compile(
        r"\bthank you for (?:this|the) consult|\bplease page with questions|"
        r"\bwill follow along\b",
        re.I,
    ),
}


def furniture_of(text: str) -> list[str]:
    return [name for name, pattern in FURNITURE.items() if pattern.search(text.strip())]


# --------------------------------------------------------------------------------------------
# Ground truth per chart
# --------------------------------------------------------------------------------------------


@dataclass
class ChartTruth:
    key: str  # MRN
    kind: str  # demo, mtsamples, synthea, nursing
    note_texts: list[str]
    principal: str | None = None
    current_meds: list[str] | None = None  # None: the chart has no medication truth
    stopped_meds: list[str] = field(default_factory=list)
    allergies: list[str] | None = None  # [] = no known allergies
    follow_ups: list[str] | None = None
    procedures: list[str] | None = None
    undocumented: Counter = field(default_factory=Counter)  # truth items no note mentions

    def lexicon(self) -> dict[str, set[str]]:
        return {name: drug_aliases(name) for name in [*(self.current_meds or []), *self.stopped_meds]}


def _documented(items: list[str], notes: str, *, drug: bool = False) -> list[str]:
    if drug:
        norm = normalise(notes)
        return [d for d in items if any(_find_phrase(a, norm) for a in drug_aliases(d))]
    # Stated in one line of one note, not assembled from words scattered over a 40-note chart
    # ("primary care" in one note and "1 week" in another is no follow-up the chart states).
    lines = [line for line in notes.splitlines() if line.strip()]
    return [item for item in items if any(mentions(line, item) for line in lines)]


def demo_truth(mrn: str, facts, note_texts: list[str], last_note_at=None) -> ChartTruth:
    """Ground truth of a demo patient: a course is current when it has no stop time (for a
    discharged patient, inpatient-only drugs are stopped at discharge), i.e. the discharge
    medication list, or the active orders of a patient still admitted. A stop after the newest
    note is one the chart cannot show yet: that drug is still current as the chart stands."""
    notes = "\n".join(note_texts)

    def stopped_in_chart(course) -> bool:
        return course.stopped_at is not None and (last_note_at is None or course.stopped_at <= last_note_at)

    current = [c.drug for c in facts.medications if not stopped_in_chart(c)]
    stopped = [c.drug for c in facts.medications if stopped_in_chart(c)]
    truth = ChartTruth(
        key=mrn,
        kind="demo",
        note_texts=note_texts,
        principal=facts.problems[0],
        current_meds=_documented(current, notes, drug=True),
        stopped_meds=stopped,
        allergies=[a.substance for a in facts.allergies],
        follow_ups=_documented(list(facts.follow_ups), notes),
        procedures=_documented([p.name for p in facts.procedures], notes),
    )
    truth.undocumented.update(
        meds=len(current) - len(truth.current_meds),
        follow_ups=len(facts.follow_ups) - len(truth.follow_ups),
        procedures=len(facts.procedures) - len(truth.procedures),
    )
    return truth


_DIAGNOSIS_HEADER = re.compile(
    r"^[ \t]*(?:PRIMARY |PRINCIPAL )?(?:DISCHARGE DIAGNOS[IE]S(?:\s*\(ES\))?|FINAL DIAGNOS[IE]S)[ \t]*:", re.M
)
_MEDS_HEADER = re.compile(r"^[ \t]*DISCHARGE MEDICATIONS?[ \t]*:", re.M)
_NEXT_HEADER = re.compile(r"^[ \t]*(?!AXIS )[A-Z][A-Z /&()-]{2,50}:", re.M)
_ITEM = re.compile(r"(?:^|\s)\d{1,2}[.)]\s+")


def section_body(text: str, header: re.Pattern) -> str | None:
    """The text after the first matching header up to the next ALL-CAPS header."""
    match = header.search(text)
    if not match:
        return None
    rest = text[match.end() :]
    following = _NEXT_HEADER.search(rest)
    return rest[: following.start()] if following else rest


def list_items(body: str) -> list[str]:
    """'1. A.  2. B.' (anywhere in the body), or one line per item, or 'A; B; C' -> items."""
    body = body.strip()
    if len(re.findall(r"(?:^|\s)\d{1,2}[.)]\s", body)) >= 2 or re.match(r"\d{1,2}[.)]\s", body):
        items = _ITEM.split(" " + body)
        if not re.match(r"\d{1,2}[.)]\s", body):
            items = items[1:]  # "Include 1. ..." : the words before the first number are no item
    elif len(body.splitlines()) > 1 and not re.search(r"[a-z,]\s*\n\s*[a-z]", body):
        items = body.splitlines()
    else:
        items = re.split(r";\s*", body)
    return [" ".join(item.split()).strip(" .") for item in items if item.strip(" .\n")]


def first_diagnosis(body: str) -> str:
    """The first item of a diagnosis section: its first numbered item, else its first sentence;
    an 'AXIS I:' label is dropped."""
    body = body.strip()
    if re.match(r"\d{1,2}[.)]\s", body):
        item = list_items(body)[0]
    else:
        item = re.split(r"(?<=[a-z)])\.(?:\s|$)", " ".join(body.split()), maxsplit=1)[0]
        item = re.split(r"\s\d{1,2}[.)]\s", item, maxsplit=1)[0]  # "Sick sinus syndrome ... 1. Diabetes"
    item = re.sub(r"^\s*AXIS\s+[IV]+\s*:\s*", "", item, flags=re.I)
    return item.strip(" .")


_DOSE = re.compile(r"\d\s*(?:mg|mcg|g|units?|meq|iu|ml)\b", re.I)


def discharge_drugs(body: str) -> list[str]:
    """The drugs a DISCHARGE MEDICATIONS section sends the patient home on: every drug the
    dictionary finds in it that the text does not stop or withhold ('will not restart
    methotrexate'), and, for a dosed line the dictionary does not know, its first words."""
    drugs: list[str] = []
    for item in list_items(body):
        named = drugs_named(item, {}, combine=all)
        drugs += [m.drug.removeprefix("other:") for m in named if m.current]
        if not named and _DOSE.search(item):
            words = re.split(r"\s\d", item, maxsplit=1)[0].split()[:3]
            drugs.append(" ".join(words).lower())
    return list(dict.fromkeys(d for d in drugs if d))


def mtsamples_truth(path: Path) -> ChartTruth | None:
    text = path.read_text(errors="replace")
    body = section_body(text, _DIAGNOSIS_HEADER)
    if body is None or not body.strip():
        return None
    meds_body = section_body(text, _MEDS_HEADER)
    meds = None
    if meds_body is not None and meds_body.strip():
        meds = discharge_drugs(meds_body) or None
    return ChartTruth(
        key=mtsamples_mrn(path), kind="mtsamples", note_texts=[text], principal=first_diagnosis(body), current_meds=meds
    )


def mtsamples_mrn(path: Path) -> str:
    return "MTS-" + path.stem[:60]


# --------------------------------------------------------------------------------------------
# Scoring one chart's shown claims
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    section: str
    text: str
    note_ids: tuple[int, ...]
    possibly_missing: bool = False  # added by ClinSum's omission check, shown in its own box


def hidden_verdicts() -> tuple[str, ...]:
    """Verdicts never shown as fact: the app's own list where it has one, else 'unsupported'."""
    try:
        from clinsum.summaries.models import HIDDEN_VERDICTS
    except ImportError:
        return ("unsupported",)
    return tuple(str(v) for v in HIDDEN_VERDICTS)


@dataclass
class Score:
    principal: bool | None = None
    med_truth: int = 0
    med_found: int = 0
    med_named: int = 0  # distinct drugs the medications section presents as current
    med_correct: int = 0
    med_other: int = 0  # of med_named: drugs the chart's truth does not list at all
    stopped_as_current: list[str] = field(default_factory=list)  # medication claims
    allergy_truth: int = 0
    allergy_found: int = 0
    nkda_chart: bool = False
    nkda_stated: bool = False
    conflict_chart: bool = False
    conflict_flagged: bool = False
    follow_truth: int = 0
    follow_found: int = 0
    proc_truth: int = 0
    proc_found: int = 0
    furniture: list[tuple[str, str]] = field(default_factory=list)
    n_shown: int = 0
    n_possibly_missing: int = 0


def score_chart(truth: ChartTruth, shown: list[Shown]) -> Score:
    score = Score(n_shown=len(shown), n_possibly_missing=sum(c.possibly_missing for c in shown))
    by_section: dict[str, list[str]] = defaultdict(list)
    for claim in shown:
        by_section[claim.section].append(claim.text)
        score.furniture += [(kind, claim.text) for kind in furniture_of(claim.text)]
    if truth.principal:
        score.principal = any(mentions(text, truth.principal) for text in by_section["header"] + by_section["problems"])
    if truth.current_meds is not None:
        lexicon = truth.lexicon()
        presented: set[str] = set()
        for text in by_section["medications"]:
            mentioned = drugs_named(text, lexicon)
            presented |= {m.drug for m in mentioned if m.current}
            if any(m.current and m.drug in truth.stopped_meds for m in mentioned):
                score.stopped_as_current.append(text)
        truth_current = set(truth.current_meds)
        score.med_truth, score.med_found = len(truth_current), len(presented & truth_current)
        score.med_named, score.med_correct = len(presented), len(presented & truth_current)
        score.med_other = sum(d.startswith("other:") for d in presented)
    if truth.allergies is not None:
        allergy_texts = by_section["allergies"]
        score.allergy_truth = len(truth.allergies)
        score.allergy_found = sum(any(allergy_named(t, s) for t in allergy_texts) for s in truth.allergies)
        score.nkda_chart = not truth.allergies
        score.nkda_stated = any(_NO_ALLERGIES_CLAIM.search(t) for t in allergy_texts)
    score.conflict_chart = allergy_conflict_in(truth.note_texts)
    score.conflict_flagged = any(re.search(r"\bconflict", c.text, re.I) for c in shown)
    if truth.follow_ups is not None:
        score.follow_truth = len(truth.follow_ups)
        score.follow_found = sum(any(mentions(t, f) for t in by_section["follow_ups"]) for f in truth.follow_ups)
    if truth.procedures is not None:
        score.proc_truth = len(truth.procedures)
        score.proc_found = sum(any(mentions(t, p) for t in by_section["recent_events"]) for p in truth.procedures)
    return score


# --------------------------------------------------------------------------------------------
# The two variants
# --------------------------------------------------------------------------------------------


def baseline_sections():
    """The five sections as they were when extractive_v2 was frozen (commit f4fcd22)."""
    from clinsum.summaries.sections import SummarySection

    return (
        SummarySection(
            "problems",
            "Active problems",
            "active problems, diagnoses, assessment and impression of the patient's conditions",
            (
                "assessment_and_plan",
                "assessment",
                "impression",
                "diagnosis",
                "history_of_present_illness",
                "past_medical_history",
                "discharge_diagnosis",
                "discharge_diagnoses",
            ),
        ),
        SummarySection(
            "medications",
            "Medications",
            "current medications with dose, route and frequency; medication changes",
            ("medications", "discharge_medications", "current_medications", "plan", "assessment_and_plan"),
        ),
        SummarySection(
            "allergies",
            "Allergies",
            "drug allergies and adverse reactions; no known drug allergies",
            ("allergies",),
            max_claims=2,
        ),
        SummarySection(
            "recent_events",
            "Recent events",
            "recent events, procedures performed, lab results and clinical changes during the hospital course",
            ("hospital_course", "labs", "procedures", "assessment", "objective", "progress"),
        ),
        SummarySection(
            "follow_ups",
            "Pending follow-ups",
            "pending follow-up appointments, tests to repeat, results pending, plans after discharge",
            ("follow_up", "plan", "disposition", "discharge_instructions", "assessment_and_plan"),
            max_claims=3,
        ),
    )


_NOT_DOCUMENTED = re.compile(r"^\W*not documented\W*$", re.IGNORECASE)


def run_baseline(patient_id: int, sections) -> tuple[list[Shown], float]:
    """Frozen extractive_v2 on the service's retrieval, each claim verified with today's verifier;
    shown = a verdict the app shows as fact (not unsupported, nor out of date where it has that)."""
    from bench.baseline import extractive_v2
    from clinsum.charts.indexing import embedder_get
    from clinsum.summaries.generation.sources import sources_retrieve
    from clinsum.summaries.verification import claim_verify
    from retrieval.types import AccessScope

    started = time.perf_counter()
    sources, section_sources = sources_retrieve(
        patient_id=patient_id, scope=AccessScope(patient_ids=(patient_id,)), sections=sections
    )
    generation = extractive_v2.extractive_generate(
        sections=sections, section_sources=section_sources, sources=sources, embedder=embedder_get()
    )
    shown = []
    for claim in generation.claims:
        if not claim.citations and _NOT_DOCUMENTED.match(claim.text):
            continue
        check = claim_verify(claim=claim, sources=sources, patient_id=patient_id)
        if check.verdict not in hidden_verdicts():
            note_ids = tuple(sorted({c.hit.note_id for c in check.citations if c.hit is not None}))
            shown.append(Shown(claim.section, claim.text, note_ids))
    return shown, time.perf_counter() - started


def run_current_safe(patient) -> tuple[list[Shown], float, str]:
    """run_current, with a crash of the service (mid-rewrite) reported instead of raised."""
    try:
        return run_current(patient)
    except Exception as exc:
        return [], float("nan"), f"{type(exc).__name__}: {exc}"


def run_current(patient) -> tuple[list[Shown], float, str]:
    """The real service, synchronously; returns (shown claims, seconds in summary_run, error)."""
    from clinsum.summaries.models import Summary, SummaryStatus
    from clinsum.summaries.services import summary_request, summary_run

    Summary.objects.filter(patient=patient).delete()  # no cached summary: always a fresh run
    summary, _ = summary_request(patient=patient, user=bench_reader(patient))
    started = time.perf_counter()
    summary_run(summary_id=summary.pk)
    seconds = time.perf_counter() - started
    summary.refresh_from_db()
    if summary.status != SummaryStatus.DONE:
        return [], seconds, summary.error or summary.status
    shown = []
    for claim in summary.claims.prefetch_related("citations").order_by("ordinal"):
        if claim.verdict not in hidden_verdicts():
            shown.append(
                Shown(
                    claim.section,
                    claim.text,
                    tuple(sorted({c.note_id for c in claim.citations.all()})),
                    bool(getattr(claim, "possibly_missing", False)),
                )
            )
    return shown, seconds, ""


# --------------------------------------------------------------------------------------------
# Loading charts
# --------------------------------------------------------------------------------------------


def load_demo(n_patients: int):
    from clinsum.demo_ingest import demo_records_ingest
    from demo import demo_ward_generate

    ward = demo_ward_generate(seed=DEMO_SEED, n_patients=n_patients)
    demo_records_ingest(patients=ward.patients, notes=ward.notes, enqueue=False)
    texts: dict[str, list[str]] = defaultdict(list)
    last: dict[str, object] = {}
    for note in ward.notes:
        texts[note.mrn].append(note.text)
        last[note.mrn] = max(last.get(note.mrn, note.authored_at), note.authored_at)
    return [demo_truth(p.mrn, ward.facts[p.mrn], texts[p.mrn], last[p.mrn]) for p in ward.patients]


def load_mtsamples(limit: int | None) -> tuple[list[ChartTruth], list[str]]:
    from clinsum.charts.records import NoteRecord, PatientRecord
    from clinsum.charts.services import notes_ingest

    files = sorted(p for p in (DATA / "mtsamples").glob("*.txt") if "discharge-summary" in p.name)
    if limit is not None:
        files = files[:limit]
    truths, skipped = [], []
    for path in files:
        truth = mtsamples_truth(path)
        if truth is None:
            skipped.append(path.name)
        else:
            truths.append(truth)
    notes_ingest(
        notes=[
            NoteRecord(
                mrn=t.key,
                note_type="discharge_summary",
                authored_at=MTSAMPLES_AT,
                text=t.note_texts[0],
                title=t.key,
                source="mtsamples",
            )
            for t in truths
        ],
        patients=[PatientRecord(mrn=t.key, family_name=f"MTSamples {t.key[4:]}") for t in truths],
        enqueue=False,
    )
    return truths, skipped


def load_synthea_largest() -> ChartTruth:
    from clinsum.charts.fhir import fhir_ndjson_parse
    from clinsum.charts.services import notes_ingest

    folder = DATA / "synthea-fhir"
    # The largest chart's patient id first, without parsing every note twice.
    counts: Counter = Counter()
    with (folder / "DocumentReference.000.ndjson").open() as handle:
        for line in handle:
            counts[json.loads(line)["subject"]["reference"].split("/")[-1]] += 1
    patient_id = counts.most_common(1)[0][0]
    lines = [line for line in (folder / "Patient.000.ndjson").open() if f'"id":"{patient_id}"' in line.replace(" ", "")]
    lines += [line for line in (folder / "DocumentReference.000.ndjson").open() if patient_id in line]
    parsed = fhir_ndjson_parse(lines, source="synthea-fhir")
    assert not parsed.problems, parsed.problems[:3]
    notes_ingest(notes=parsed.notes, patients=parsed.patients, enqueue=False)
    mrn = parsed.patients[0].mrn
    return ChartTruth(key=mrn, kind="synthea", note_texts=[n.text for n in parsed.notes])


def load_nursing_conflicts() -> list[ChartTruth]:
    """Nursing-notes charts whose notes both deny allergies and list one (the only real-data
    allergy conflicts in ../shared/data)."""
    from clinsum.charts.ingest import parse_nursing_corpus_file
    from clinsum.charts.services import notes_ingest

    parsed = parse_nursing_corpus_file(
        DATA / "nursing-notes" / "nursing-notes.txt", authored_at=MTSAMPLES_AT, mrn_prefix="DEID-SF-"
    )
    by_patient: dict[str, list] = defaultdict(list)
    for note in parsed.notes:
        by_patient[note.mrn].append(note)
    chosen = [mrn for mrn, notes in by_patient.items() if allergy_conflict_in([n.text for n in notes])]
    notes_ingest(
        notes=[n for mrn in chosen for n in by_patient[mrn]],
        patients=[p for p in parsed.patients if p.mrn in chosen],
        enqueue=False,
    )
    return [ChartTruth(key=mrn, kind="nursing", note_texts=[n.text for n in by_patient[mrn]]) for mrn in chosen]


def index_all() -> float:
    from clinsum.charts.indexing import notes_index
    from clinsum.charts.models import EmbeddingStatus, Note

    started = time.perf_counter()
    pending = list(
        Note.objects.exclude(embedding_status=EmbeddingStatus.DONE).order_by("pk").values_list("pk", flat=True)
    )
    for i in range(0, len(pending), 128):
        notes_index(note_ids=pending[i : i + 128])
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(v for v in values if v == v)  # NaN: a failed run
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.2f} ({num}/{den})" if den else "n/a (0)"


def report(title: str, scores: dict[str, list[Score]], *, meds_stopped: bool) -> None:
    print(f"\n== {title}: {len(scores['baseline'])} charts")
    print(f"{'figure':<44}{'baseline':>18}{'current':>18}   target")

    def row(name: str, target: str, fn) -> None:
        print(f"{name:<44}{fn(scores['baseline']):>18}{fn(scores['current']):>18}   {target}")

    def total(values, attr):
        return sum(getattr(v, attr) for v in values)

    row(
        "principal diagnosis in header/problems",
        TARGETS["principal"],
        lambda s: _ratio(
            sum(bool(x.principal) for x in s if x.principal is not None), sum(x.principal is not None for x in s)
        ),
    )
    row(
        "current medications: recall",
        TARGETS["med_recall"],
        lambda s: _ratio(total(s, "med_found"), total(s, "med_truth")),
    )
    row(
        "current medications: precision",
        TARGETS["med_precision"],
        lambda s: _ratio(total(s, "med_correct"), total(s, "med_named")),
    )
    row("  drugs shown as current outside the truth", "", lambda s: str(total(s, "med_other")))
    if meds_stopped:
        row(
            "stopped drugs shown as current (claims)",
            TARGETS["stopped_as_current"],
            lambda s: str(sum(len(x.stopped_as_current) for x in s)),
        )
        row(
            "allergies: recall of substances",
            TARGETS["allergy_recall"],
            lambda s: _ratio(total(s, "allergy_found"), total(s, "allergy_truth")),
        )
        row(
            "allergies: NKDA charts saying so",
            "(no target)",
            lambda s: _ratio(sum(x.nkda_stated for x in s if x.nkda_chart), sum(x.nkda_chart for x in s)),
        )
        row(
            "follow-ups: recall",
            TARGETS["follow_up_recall"],
            lambda s: _ratio(total(s, "follow_found"), total(s, "follow_truth")),
        )
        row(
            "recent events: procedures mentioned",
            TARGETS["procedures"],
            lambda s: _ratio(total(s, "proc_found"), total(s, "proc_truth")),
        )
    row(
        "allergy conflict charts saying 'conflict'",
        TARGETS["conflict"],
        lambda s: _ratio(sum(x.conflict_flagged for x in s if x.conflict_chart), sum(x.conflict_chart for x in s)),
    )
    row("furniture claims shown", TARGETS["furniture"], lambda s: str(sum(len(x.furniture) for x in s)))
    row(
        "claims shown (median per chart)",
        "",
        lambda s: f"{statistics.median([x.n_shown for x in s]):.0f}" if s else "-",
    )
    row("  of them from the 'possibly missing' box", "", lambda s: str(total(s, "n_possibly_missing")))


def show_chart(mrn: str, shown: dict[str, list[Shown]], truth: ChartTruth | None) -> None:
    print(f"\n== {mrn}: shown claims per section")
    if truth is not None:
        print(
            f"truth: principal={truth.principal!r}\n  current meds={truth.current_meds}"
            f"\n  stopped={truth.stopped_meds}"
            f"\n  allergies={truth.allergies}\n  follow-ups={truth.follow_ups}\n  procedures={truth.procedures}"
        )
    for variant, claims in shown.items():
        print(f"-- {variant}")
        sections = list(dict.fromkeys(c.section for c in claims))
        for section in sections:
            print(f"  [{section}]")
            for claim in claims:
                if claim.section == section:
                    marks = furniture_of(claim.text)
                    print(
                        f"    - {claim.text}  (notes {','.join(map(str, claim.note_ids))})"
                        + ("  [possibly missing box]" if claim.possibly_missing else "")
                        + (f"  <- furniture: {', '.join(marks)}" if marks else "")
                    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=20, help="demo ward patients (seed 7, as seed_demo)")
    parser.add_argument(
        "--mtsamples",
        type=int,
        default=None,
        metavar="N",
        help="at most N MTSamples discharge-summary files (default: all)",
    )
    parser.add_argument("--skip-synthea", action="store_true", help="no Synthea latency chart (saves ~2 minutes)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per long chart (default 3)")
    parser.add_argument(
        "--show",
        metavar="MRN",
        action="append",
        default=[],
        help="print this chart's shown claims per section, both variants (repeatable)",
    )
    parser.add_argument("--details", action="store_true", help="print every miss (what truth item, which chart)")
    parser.add_argument(
        "--keep-index",
        action="store_true",
        help="reuse the last run's notes and chunks (saves ~3 minutes of embedding); only valid "
        "when chunking and the embedding model are unchanged since that run",
    )
    args = parser.parse_args()

    bench_setup(DB_NAME)
    from django.conf import settings

    from clinsum.charts.models import Note, Patient

    assert settings.SUMMARY_BACKEND == "extractive", "this benchmark measures the embedded extractive backend"
    print(f"machine: {machine()}")
    print(f"drug names: {'drug_named_entity_recognition package' if _find_drugs else 'built-in table only'}")
    if not args.keep_index:
        charts_reset()
    started = time.perf_counter()
    demo = load_demo(args.patients)
    mts, mts_skipped = load_mtsamples(args.mtsamples)
    nursing = load_nursing_conflicts()
    synthea = None if args.skip_synthea else load_synthea_largest()
    n_notes = Note.objects.count()
    print(
        f"ingested {len(demo)} demo charts, {len(mts)} MTSamples charts (skipped {len(mts_skipped)} without a "
        f"discharge/final diagnosis section: {', '.join(mts_skipped)}), {len(nursing)} nursing-notes "
        f"allergy-conflict "
        f"charts, {'no Synthea' if synthea is None else '1 Synthea chart'}: {n_notes} notes in "
        f"{time.perf_counter() - started:.1f} s"
    )
    print(f"indexing {n_notes} notes on CPU ...", flush=True)
    print(f"indexed in {index_all():.0f} s (not timed below)")
    undocumented = sum((t.undocumented for t in demo), Counter())
    print(f"demo truth items no note mentions (left out of the truth): {dict(undocumented) or 'none'}")

    patients = {p.mrn: p for p in Patient.objects.all()}
    sections = baseline_sections()
    # Warm the embedder and both code paths once (not timed).
    first = patients[demo[0].key]
    run_baseline(first.pk, sections)
    error = run_current_safe(first)[2]
    if error:
        print(f"current variant failed on the warm-up chart: {error[:300]}")

    shown: dict[str, dict[str, list[Shown]]] = defaultdict(dict)
    scores: dict[str, dict[str, list[Score]]] = defaultdict(lambda: {"baseline": [], "current": []})
    seconds: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"baseline": [], "current": []})
    failures: list[str] = []
    everything = [*demo, *mts, *nursing, *([synthea] if synthea else [])]
    for truth in everything:
        patient = patients[truth.key]
        claims, base_s = run_baseline(patient.pk, sections)
        shown[truth.key]["baseline"] = claims
        current, cur_s, error = run_current_safe(patient)
        if error:
            failures.append(f"{truth.key}: {error[:200]}")
        shown[truth.key]["current"] = current
        scores[truth.kind]["baseline"].append(score_chart(truth, claims))
        scores[truth.kind]["current"].append(score_chart(truth, current))
        seconds[truth.kind]["baseline"].append(base_s)
        seconds[truth.kind]["current"].append(cur_s)

    report("demo ward (seed 7)", scores["demo"], meds_stopped=True)
    report("MTSamples discharge summaries", scores["mtsamples"], meds_stopped=False)
    conflict_sets = {k: v for k, v in scores.items() if k in ("nursing", "synthea")}
    for kind, kind_scores in conflict_sets.items():
        n = sum(s.conflict_chart for s in kind_scores["baseline"])
        flagged = [sum(s.conflict_flagged for s in kind_scores[v] if s.conflict_chart) for v in ("baseline", "current")]
        furniture = [sum(len(s.furniture) for s in kind_scores[v]) for v in ("baseline", "current")]
        print(
            f"\n== {kind}: {len(kind_scores['baseline'])} charts; allergy-conflict charts saying 'conflict': "
            f"baseline {flagged[0]}/{n}, current {flagged[1]}/{n} (target: every chart); furniture claims shown: "
            f"baseline {furniture[0]}, current {furniture[1]} (target 0)"
        )
    all_scores = [s for kind in scores.values() for v in ("baseline", "current") for s in kind[v]]
    n_conflict = sum(s.conflict_chart for kind in scores.values() for s in kind["baseline"])
    print(
        f"\nallergy-conflict charts among all {len(everything)} charts: {n_conflict} "
        f"(demo ward and MTSamples notes never contradict themselves on allergies)"
    )
    kinds = Counter(k for s in all_scores for k, _ in s.furniture)
    if kinds:
        print(
            "furniture by pattern (both variants, all charts): " + ", ".join(f"{k} {n}" for k, n in kinds.most_common())
        )

    # Latency: the long demo charts, repeated; the largest Synthea chart.
    n_notes_of = {t.key: len(t.note_texts) for t in everything}
    long_charts = [t for t in demo if n_notes_of[t.key] >= LONG_CHART_NOTES]
    timed = {"baseline": [], "current": []}
    for _ in range(args.repeats):
        for truth in long_charts:
            timed["baseline"].append(run_baseline(patients[truth.key].pk, sections)[1])
            timed["current"].append(run_current_safe(patients[truth.key])[1])
    print(f"\n== latency on this machine ({machine()})")
    print(f"{'figure':<56}{'baseline':>12}{'current':>12}   target")
    if long_charts:
        label = f"p95, {len(long_charts)} demo charts with >= {LONG_CHART_NOTES} notes x{args.repeats} (s)"
        print(
            f"{label:<56}{pct(timed['baseline'], 0.95):>12.2f}{pct(timed['current'], 0.95):>12.2f}"
            f"   {TARGETS['p95_40']}"
        )
    demo_seconds = seconds["demo"]
    print(
        f"{f'p95 over all {len(demo)} demo charts, one run each (s)':<56}"
        f"{pct(demo_seconds['baseline'], 0.95):>12.2f}{pct(demo_seconds['current'], 0.95):>12.2f}"
    )
    if synthea is not None:
        runs = {"baseline": [seconds["synthea"]["baseline"][0]], "current": [seconds["synthea"]["current"][0]]}
        for _ in range(max(0, args.repeats - 1)):
            runs["baseline"].append(run_baseline(patients[synthea.key].pk, sections)[1])
            runs["current"].append(run_current_safe(patients[synthea.key])[1])
        label = f"largest Synthea chart ({len(synthea.note_texts)} notes), max of {len(runs['current'])} (s)"
        print(f"{label:<56}{pct(runs['baseline'], 1):>12.2f}{pct(runs['current'], 1):>12.2f}   {TARGETS['synthea']}")

    if failures:
        print(f"\ncurrent variant failed on {len(failures)} charts (scored as showing nothing):")
        for line in failures[:10]:
            print(f"  {line}")

    if args.details:
        print_details(everything, shown)
    for mrn in args.show:
        truth = next((t for t in everything if t.key == mrn), None)
        if mrn not in shown:
            print(f"\n--show {mrn}: no such chart (demo MRNs: {', '.join(t.key for t in demo)})")
            continue
        show_chart(mrn, shown[mrn], truth)
    return 0


def print_details(charts: list[ChartTruth], shown: dict[str, dict[str, list[Shown]]]) -> None:
    """Every miss, so a reader can judge the matcher as well as the summaries."""
    print("\n== details (misses)")
    for truth in charts:
        for variant, claims in shown[truth.key].items():
            score = score_chart(truth, claims)
            lines = []
            by_section: dict[str, list[str]] = defaultdict(list)
            for claim in claims:
                by_section[claim.section].append(claim.text)
            if score.principal is False:
                lines.append(f"principal missed: {truth.principal!r}")
            if truth.current_meds is not None:
                lexicon = truth.lexicon()
                named = [m for t in by_section["medications"] for m in drugs_named(t, lexicon)]
                current = {m.drug for m in named if m.current}
                missed = [d for d in truth.current_meds if d not in current]
                extra = sorted(current - set(truth.current_meds))
                if missed:
                    lines.append(f"meds missed: {missed}")
                if extra:
                    lines.append(f"meds shown as current, not current: {extra}")
            if truth.allergies:
                missed = [a for a in truth.allergies if not any(allergy_named(t, a) for t in by_section["allergies"])]
                if missed:
                    lines.append(f"allergies missed: {missed}")
            for name, items, section in (
                ("follow-ups", truth.follow_ups, "follow_ups"),
                ("procedures", truth.procedures, "recent_events"),
            ):
                missed = [i for i in items or [] if not any(mentions(t, i) for t in by_section[section])]
                if missed:
                    lines.append(f"{name} missed: {missed}")
            lines += [f"furniture ({kind}): {text[:90]!r}" for kind, text in score.furniture]
            if lines:
                print(f"{truth.key} [{variant}]")
                for line in lines:
                    print(f"    {line}")


if __name__ == "__main__":
    raise SystemExit(main())
