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
from .drugs import drug_mentions, drugs_in

MAX_SENTENCES = 3
MAX_CLOSEST = 3
NEAR_DUPLICATE = 90
QUESTION_MAX_CHARS = 500

_PRESENT = re.compile(r"\b(?:current(?:ly)?|still|latest|last|now|today|most recent|recent(?:ly)?|anymore)\b", re.I)
# The stay's beginning: oldest first ("this admission" is the whole stay, not its start).
_PAST = re.compile(
    r"\b(?:first|earliest|initial(?:ly)?|original(?:ly)?|baseline|on arrival|at presentation|presenting)\b"
    r"|\b(?:on|at|upon) admission\b|\badmission (?!date)[a-z]|\badmit(?:ting)? [a-z]",
    re.I,
)
_SAYS_PAST = re.compile(
    r"\b(?:on|at|upon) (?:admission|arrival|presentation)\b"
    r"|\b(?:initial(?:ly)?|baseline|admission (?:value|level|labs?))\b",
    re.I,
)
_TIME_WORDS = frozenset(
    "first earliest initial initially original originally baseline arrival presentation presenting admission "
    "admitting admit".split()
)
_ALLERGY = re.compile(r"\ballerg|\breactions? to\b|\breact(?:ed)? to\b|\bintoleran|\bnkda\b|\bnka\b|\bsensitivit", re.I)
# Words that name the kind of allergy asked about, not a substance: "any drug allergies?".
_ALLERGY_CLASS = frozenset(
    """drug drugs medication medications med meds medicine medicines known documented listed reported recorded
    food foods environmental seasonal severe serious significant important kind kinds type types sort sorts
    reaction reactions history hx list nkda nka adverse sensitivity sensitivities""".split()
)
_WHO = r"(?:he|she|they|the patient|the pt|pt|patient|this patient|this person)"
_DIAGNOSIS = re.compile(
    r"\bdiagnos[ie]s\b|\bdx\b|\bprincipal\b|\b(?:primary|main|presenting) (?:problem|issue|complaint)\b"
    r"|\bchief complaint\b|\badmitted (?:for|with)\b|\bhospitali[sz]ed (?:for|with)\b"
    r"|\breason for (?:the |this )?(?:admission|hospitali[sz]ation|stay|visit|being here)\b|\bwhy .*admitted\b"
    rf"|\bwhy (?:is|was|are|were) {_WHO} (?:here|in\b|in (?:the )?hospital|hospitali[sz]ed)"
    rf"|\bwhy did {_WHO} (?:come|present)|\bwhat brought (?:him|her|them|{_WHO}) in\b"
    r"|\b(?:here|in (?:the )?hospital) for\b"
    r"|\bwhat(?:'s| is| was) wrong with\b|\bwhat (?:is|was) (?:going on|the problem)\b",
    re.I,
)
_FOLLOW_UP = re.compile(
    r"\bfollow[- ]?ups?\b|\bf/u\b|\bpending\b|\bappointments?\b|\boutstanding\b|\bloose ends\b|\bto[- ]dos?\b"
    r"|\b(?:after|post|following)[- ]?(?:discharge|d/?c)\b|\bdischarge plan|\bonce (?:home|discharged)\b"
    r"|\b(?:after|when) (?:he|she|they|the patient|pt) (?:goes|go|gets|get) home\b",
    re.I,
)
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

# Standard clinical abbreviations and short forms: how a clinician may type a test, procedure,
# lab or problem (left) and the ways notes write it (right). One form per "|"; a form ending in
# "*" is a prefix ("transfus*": transfused, transfusion). A narrower name never stands for a
# broader one: "echo" finds a TTE or a TEE, "TEE" finds only a transesophageal echo.
# (medspaCy and QuickUMLS are installed but carry no abbreviation table without a UMLS licence.)
_SHORTHAND_TABLE = (
    # procedures and imaging
    ("echo|echos|echocardiogram*|echocardiograph*|cardiac echo", "echo|echos|echocardiogra*|tte|tee"),
    ("tte|transthoracic echo*", "tte|transthoracic echo*"),
    ("tee|transesophageal echo*|transoesophageal echo*", "tee|transesophageal echo*|transoesophageal echo*"),
    ("bubble echo|bubble study|agitated saline*|saline contrast echo*", "bubble*|agitated saline|saline contrast"),
    (
        "central line|central lines|central venous line|central venous catheter|cvc|cvl",
        "central line|central venous line|central venous catheter|cvc|cvl",
    ),
    ("picc|picc line|peripherally inserted central catheter", "picc|peripherally inserted central catheter"),
    ("a-line|aline|art line|arterial line|arterial catheter", "arterial line|a-line|art line|arterial catheter"),
    (
        "cxr|cxrs|chest x-ray|chest xray|chest x ray|chest radiograph*|chest film*",
        "cxr|chest x-ray|chest xray|chest x ray|chest radiograph*|chest film*",
    ),
    ("ct|cts|ct scan|cat scan|computed tomography", "ct|cta|ct scan|cat scan|computed tomography"),
    ("mri|mr imaging|magnetic resonance imaging", "mri|magnetic resonance"),
    ("egd|upper endoscopy|esophagogastroduodenoscopy", "egd|upper endoscopy|esophagogastroduodenoscopy"),
    (
        "cath|heart cath|cardiac cath|left heart cath|lhc|rhc|right heart cath|cardiac catheterization"
        "|heart catheterization|coronary angiogra*",
        "cardiac cath*|heart cath*|lhc|rhc|coronary angiogra*|cath lab",
    ),
    ("pci|percutaneous coronary intervention|coronary stent*", "pci|percutaneous coronary intervention|stent*"),
    ("cabg|coronary artery bypass*|bypass surgery", "cabg|coronary artery bypass*"),
    (
        "foley|foley catheter|indwelling urinary catheter|urinary catheter|ifc",
        "foley|indwelling urinary catheter|urinary catheter|bladder catheter",
    ),
    ("ekg|ecg|ekgs|ecgs|electrocardiogram*|12-lead|12 lead", "ekg|ecg|electrocardiogra*|12-lead|12 lead"),
    ("eeg|electroencephalogra*", "eeg|electroencephalogra*"),
    ("lp|lumbar puncture|spinal tap", "lp|lumbar puncture|spinal tap"),
    ("pft|pfts|pulmonary function*|spirometry", "pft|pfts|pulmonary function*|spirometry"),
    (
        "transfusion|transfusions|blood transfusion|transfused|prbc|prbcs|packed red cells|packed red blood cells",
        "transfus*|prbc*|packed red",
    ),
    ("intubation|intubated|ett|endotracheal tube|mechanical ventilation", "intubat*|endotracheal tube|ett"),
    ("ngt|ng tube|nasogastric tube|nasogastric", "ngt|ng tube|nasogastric"),
    ("peg|peg tube|g-tube|g tube|gastrostomy*", "peg|g-tube|g tube|gastrostomy"),
    ("hd|dialysis|hemodialysis|ihd|crrt", "dialysis|hemodialysis|crrt|cvvh*"),
    ("thora|thoracentesis", "thora|thoracentesis"),
    ("bronch|bronchoscopy", "bronch|bronchoscop*"),
    ("us|u/s|ultrasound|sonogram|sono|duplex|doppler|dopplers", "ultrasound|sonogra*|duplex|doppler*"),
    ("stress test|nuclear stress|stress echo", "stress test|nuclear stress|stress echo|myocardial perfusion"),
    # labs
    ("cr|creat|scr|creatinine", "creatinine|creat|cr|scr"),
    ("na|sodium", "sodium|na"),
    ("k|potassium", "potassium|k"),
    ("mag|magnesium", "magnesium|mag"),
    ("phos|phosphorus|phosphate", "phosphorus|phosphate|phos"),
    ("ca|calcium", "calcium|ca"),
    ("bicarb|bicarbonate|hco3|co2", "bicarbonate|bicarb|hco3|co2"),
    ("bun|blood urea nitrogen", "bun|blood urea nitrogen|urea nitrogen"),
    (
        "bg|bgs|blood sugar|blood sugars|fsbg|fingerstick*|glucose|poc glucose|accucheck*|accu-chek*",
        "glucose|blood sugar*|fsbg|fingerstick*|bg|accu-?chek*|accucheck*",
    ),
    ("hgb|hb|h/h|h&h|hemoglobin", "hemoglobin|hgb|hb"),
    ("a1c|hba1c|hemoglobin a1c|glycated hemoglobin", "a1c|hba1c"),
    (
        "wbc|wbcs|white count|white cell count|white blood cell*|leukocyte count",
        "wbc|white count|white blood cell*|leukocyte*",
    ),
    ("plt|plts|platelet*|platelet count", "platelet*|plt|plts"),
    ("trop|trops|troponin*|tni|tnt|hs-trop*", "troponin*|trop|trops|tni|tnt"),
    ("crp|c-reactive protein|c reactive protein", "crp|c-reactive protein|c reactive protein"),
    ("esr|sed rate|sedimentation rate", "esr|sed rate|sedimentation rate"),
    ("lactate|lactic acid|lactic", "lactate|lactic acid|lactic"),
    ("bnp|nt-probnp|probnp|natriuretic peptide", "bnp|nt-probnp|probnp|natriuretic"),
    (
        "lfts|lft|liver function tests|liver tests|liver enzymes|hepatic panel",
        "lft*|liver function*|liver test*|liver enzyme*|hepatic panel|transaminase*",
    ),
    (
        "bmp|basic metabolic panel|chem 7|chem7|lytes|electrolytes",
        "bmp|basic metabolic panel|chem 7|chem7|electrolytes",
    ),
    ("cbc|complete blood count|blood count", "cbc|complete blood count"),
    ("abg|abgs|arterial blood gas*|blood gas*", "abg|abgs|arterial blood gas*|blood gas*"),
    ("ua|urinalysis", "urinalysis|ua"),
    ("bcx|blood cx|blood culture*", "blood culture*|bcx|blood cx"),
    ("ucx|urine cx|urine culture*", "urine culture*|ucx|urine cx"),
    # problems and history
    ("dx|diagnosis|diagnoses", "diagnos*|dx"),
    ("hx|history", "history|hx"),
    ("abx|antibiotic*", "antibiotic*|abx"),
    ("bx|biopsy|biopsies", "biops*|bx"),
    ("fx|fracture*", "fracture*|fx"),
    ("afib|a-fib|a fib|af|atrial fibrillation", "atrial fibrillation|afib|a-fib|a fib"),
    ("chf|hf|heart failure|hfref|hfpef", "heart failure|chf|hfref|hfpef"),
    ("aki|acute kidney injury|acute renal failure|arf", "acute kidney injury|aki|acute renal failure"),
    ("ckd|chronic kidney disease", "chronic kidney disease|ckd"),
    ("uti|utis|urinary tract infection*", "urinary tract infection*|uti"),
    ("pna|pneumonia", "pneumonia|pna"),
    ("dvt|dvts|deep vein thrombosis|deep venous thrombosis", "deep vein thrombosis|deep venous thrombosis|dvt"),
    ("pe|pulmonary embol*", "pulmonary embol*|pe"),
    (
        "nstemi|non-st-elevation myocardial infarction|non-st elevation mi",
        "nstemi|non-st-elevation myocardial infarction|non-st elevation*",
    ),
    ("mi|myocardial infarction|heart attack", "myocardial infarction|mi|stemi|nstemi"),
    ("gib|gi bleed*|ugib|lgib|gastrointestinal bleed*", "gastrointestinal bleed*|gi bleed*|gib|ugib|lgib"),
    ("dka|diabetic ketoacidosis", "diabetic ketoacidosis|dka"),
    ("htn|hypertension", "hypertension|htn"),
    ("osa|obstructive sleep apnea|sleep apnea", "obstructive sleep apnea|sleep apnea|osa"),
    (
        "c diff|c. diff|cdiff|c difficile|c. difficile|clostridioides difficile|clostridium difficile",
        "c diff*|c. diff*|cdiff*|clostridi* difficile|cdi",
    ),
    ("sob|shortness of breath|dyspnea", "shortness of breath|dyspnea|sob"),
)


def _form(form: str) -> str:
    """One written form as a pattern: words with hyphens or spaces between, "*" a prefix."""
    prefix = form.endswith("*")
    words = form.rstrip("*").split(" ")
    body = r"[\s-]*".join(re.escape(w) for w in words)
    return r"(?<![\w-])" + body + (r"[\w-]*" if prefix else r"(?:e?s)?(?![\w-])")


def _forms(forms: str) -> re.Pattern[str]:
    return re.compile("|".join(_form(f) for f in sorted(forms.split("|"), key=len, reverse=True)), re.I)


# (a question form, the pattern of the notes' forms), the longest question form first.
_SHORTHAND = sorted(
    ((question_form, _forms(written)) for typed, written in _SHORTHAND_TABLE for question_form in typed.split("|")),
    key=lambda item: -len(item[0]),
)
# "US" is ultrasound only in capitals ("tell us" is not).
_TYPED = [
    (re.compile(_form("US"), 0) if typed == "us" else re.compile(_form(typed), re.I), written)
    for typed, written in _SHORTHAND
]

# A question about a value (a lab result), not about whether or when something was done.
_NOT_A_VALUE = re.compile(
    r"\b(?:when|done|did|had|has|have|performed|show(?:ed|s)?|find(?:ing)?s?|impression|placed|removed|read)\b", re.I
)
# A drug's level ("vancomycin trough") is a result; a dose, an order or a rate is the medication.
_LEVEL = re.compile(r"\b(?:trough|peak|levels?|concentration|random)\b", re.I)
_DOSE_INTENT = re.compile(
    r"\b(?:dose|doses|dosing|dosage|how much|taking|take|on|getting|given|give|receiv\w*|start\w*|stop\w*|held|"
    r"hold\w*|order\w*|prescri\w*|infusion|drip|rate|bolus|replet\w*|replace\w*|supplement\w*|mg|mcg|units?)\b",
    re.I,
)
# A name followed by its value: "Sodium 139", "Troponin I 0.04", "vancomycin trough: 16.2"; not a
# dose ("potassium chloride 20 mEq", "vancomycin 1000 mg") nor a date ("echo 11/14").
_VALUE_AFTER = re.compile(
    r"(?:\s*(?:[:=(,]|(?:level|levels|trough|peak|random|value|was|is|of|at|today|now|this|morning|am|[a-z]{1,3})\b))*"
    r"\s*[<>]?\d+(?:\.\d+)?(?![\d.])(?!\s*/\s*\d)(?!\s*(?:mg|g|gm|mcg|units?|u|meq|ml|mmol)\b(?!\s*/))",
    re.I,
)


@dataclass(frozen=True)
class _Term:
    """One thing the question is about, with the ways notes write it."""

    typed: str
    pattern: re.Pattern[str]
    drug: str = ""  # a generic name: any name of the drug names the term

    def spans(self, text: str) -> list[tuple[int, int]]:
        found = [m.span() for m in self.pattern.finditer(text)]
        if self.drug:
            found += [(d.start, d.end) for d in drug_mentions(text) if d.generic == self.drug]
        return found

    def named(self, text: str) -> bool:
        return bool(self.pattern.search(text)) or bool(self.drug and self.drug in drugs_in(text))


def _terms(question: str, *, drop: frozenset[str] = frozenset()) -> list[_Term]:
    """What the question is about: its shorthand (as the table writes it in notes), then its
    other key words, less `drop` and the words that only say when in the stay."""
    terms: list[_Term] = []
    rest = question
    for typed_pattern, written in _TYPED:
        match = typed_pattern.search(rest)
        if match is None:
            continue
        rest = rest[: match.start()] + " , " + rest[match.end() :]
        typed = match.group(0).lower()
        if typed not in drop:
            terms.append(_Term(typed, written))
    for word in key_words(rest):
        if word in drop or word in _TIME_WORDS:
            continue
        pattern = re.compile(r"\b" + re.escape(_stem(word)) + r"[a-z]{0,4}\b", re.I)
        terms.append(_Term(word, pattern, next(iter(sorted(drugs_in(word))), "")))
    return terms


def _valued(text: str, terms: list[_Term]) -> bool:
    """Some term of the question is followed by a value in the text (a result)."""
    return any(_VALUE_AFTER.match(text, end) for term in terms for _, end in term.spans(text))


def _only_in_drug_names(text: str, terms: list[_Term], asked: frozenset[str]) -> bool:
    """A term is written only inside a drug's name the question did not ask about:
    "sodium" in "sodium chloride 0.9%" is an infusion, not the patient's sodium."""
    drugs = [(d.start, d.end) for d in drug_mentions(text) if d.generic not in asked]
    if not drugs:
        return False
    for term in terms:
        spans = term.spans(text)
        if spans and all(any(a <= s and e <= b for a, b in drugs) for s, e in spans):
            return True
    return False


# A follow-up item proper: an appointment, a referral, a repeat test, a result awaited.
_TO_DO = re.compile(
    r"\bfollow[- ]?up\b|\bf/u\b|\bpending\b|\brefer\w*|\brepeat\b|\brecheck\b|\bappointment\b|\boutpatient\b"
    r"|\bin \d+(?:-\d+)? (?:days?|weeks?|months?)\b",
    re.I,
)
# Words of a follow-up question that say when or how, not what: "planned after discharge".
_PLAN_WORDS = frozenset(
    """plan plans planned planning scheduled arranged arrange recommended recommend recommendations needs follow up
    ups discharge discharged dc home outpatient post following once items item things thing tasks task list
    anything left loose ends todo todos appointment appointments goes go going""".split()
)


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


_EVER = re.compile(
    r"\b(?:ever|at any (?:point|time)|previously|before|prior to|in the past|received|been given|given|got|had)\b"
    r"|\b(?:this|the|during (?:the|this)) (?:admission|stay|hospitali[sz]ation)\b",
    re.I,
)


def about_the_past(question: str) -> bool:
    """The question asks what was true at some time, not what is true now ("first creatinine",
    "ever given", "on admission"): a statement a newer note contradicts still answers it."""
    return not about_present(question) and bool(_PAST.search(question) or _EVER.search(question))


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


def _ordered(statements: list[Statement], *, present: bool, rank: dict[str, int], past: bool = False) -> list[Finding]:
    """The best few statements: the newest when the question is about the present, the oldest
    when it is about the stay's beginning ("first", "on admission"), otherwise the best ranked
    by retrieval, shown in the order of the stay."""
    if present:
        chosen = sorted(statements, key=lambda s: (_when(s), s.hit.note_id, -s.start), reverse=True)
        return _unique([_finding(s) for s in chosen])[:MAX_SENTENCES]
    if past:
        # a note that says which value was the first ("135 on admission") outranks the oldest
        # note: an old value a newer note contradicts is otherwise hidden as out of date
        chosen = sorted(statements, key=lambda s: (not _SAYS_PAST.search(s.text), _when(s), s.hit.note_id, s.start))
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
    past = not present and bool(_PAST.search(question))
    closest = _closest(ranked, sources)
    rank = {source_id: i for i, source_id in enumerate(ranked)}
    statements = chart_statements(sources)

    def abstain(reason: str) -> Answer:
        return Answer([], True, present, closest, reason)

    def answered(found: list[Finding]) -> Answer:
        return Answer([_as_answer(f) for f in found][:MAX_SENTENCES], False, present, closest)

    drugs = drugs_in(question)
    if _ALLERGY.search(question):
        substance = [t for t in _terms(question, drop=_ALLERGY_CLASS) if not _ALLERGY.search(t.typed)]
        findings = allergies_read(statements)
        if substance:
            findings = [f for f in findings if any(t.named(f.text) for t in substance)] or [
                f for f in findings if drugs and drugs_in(f.text) & drugs
            ]
        if not findings:
            return abstain("no note records an allergy to what was asked")
        return answered(findings)
    drug_level = bool(drugs) and bool(_LEVEL.search(question)) and not _DOSE_INTENT.search(question)
    if drugs and not drug_level:
        findings = [f for f in medications_read(statements) if drugs_in(f.text) & drugs]
        if findings:
            return answered(findings)
        naming = [s for s in statements if drugs_in(s.text) & drugs and s.hit.section not in ALLERGY_SECTIONS]
        if not naming:
            return abstain("no note mentions that medication")
        return answered(_ordered(naming, present=present, rank=rank, past=past))
    if _DIAGNOSIS.search(question):
        header, problems = problems_read(statements)
        if problems:
            return answered(problems[:1])
    if _FOLLOW_UP.search(question):
        findings = follow_ups_read(statements)
        subject = [t for t in _terms(question, drop=_PLAN_WORDS) if not _FOLLOW_UP.search(t.typed)]
        narrowed = [f for f in findings if any(t.named(f.text) for t in subject)] if subject else findings
        if narrowed or (findings and not subject):
            # what is to be done or awaited first, then the rest of the plan ("monitor")
            return answered(sorted(narrowed or findings, key=lambda f: not _TO_DO.search(f.text)))
    terms = _terms(question)
    if not terms:
        return abstain("the question names nothing this chart could answer")
    naming = [s for s in statements if all(t.named(s.text) for t in terms) and len(s.clean.split()) >= 2]
    newest = present
    if naming and not _NOT_A_VALUE.search(question):
        # A value asked for: results only, never an infusion of the same name, nor a sentence
        # that names the test without its value; with no time given, the value now.
        valued = [s for s in naming if _valued(s.text, terms)]
        naming = valued or [s for s in naming if not _only_in_drug_names(s.text, terms, drugs)]
        newest = present or not past
    if not naming:
        return abstain("no note mentions " + ", ".join(t.typed for t in terms[:3]))
    return answered(_ordered(naming, present=newest, rank=rank, past=past))
