"""Faithful rewrites: the claim says what the sentence says, in other words. The citation quotes the
original sentence. Only rewrites that keep the clinical meaning exactly belong in these tables.
"""

from __future__ import annotations

import random
import re

from .text import LABEL, NEGATION, NUMBER_WORDS, Edit, case_like, lower_first, squash, strip_end


def _styled(sentence: str, new: str) -> str:
    """Replacement text in the sentence's style: nursing notes in ALL CAPS get ALL CAPS."""
    letters = [c for c in sentence if c.isalpha()]
    upper = letters and sum(c.isupper() for c in letters) / len(letters) > 0.8
    return new.upper() if upper else new


def _apply(sentence: str, table: list[tuple[str, object, int]], rng: random.Random, keep_case: bool) -> str | None:
    options = []
    label_end = LABEL.match(sentence).end()
    for pattern, new, flags in table:
        for match in re.finditer(pattern, sentence, flags):
            if match.start() >= label_end or label_end == 0:  # section labels stay as written
                options.append((match, new))
    rng.shuffle(options)
    for match, new in options:
        text = new(match) if callable(new) else match.expand(new)
        if text is None:
            continue
        text = case_like(match.group(0), text) if keep_case else _styled(sentence, text)
        if LABEL.match(sentence).end() == match.start() and sentence[match.start()].isupper():
            text = text[:1].upper() + text[1:]  # at the start of the sentence (after a label)
        if text != match.group(0):
            return sentence[: match.start()] + text + sentence[match.end() :]
    return None


# --------------------------------------------------------------------------------------
# number_words: 3-vessel <-> three-vessel, 2 tablets <-> two tablets
# --------------------------------------------------------------------------------------

_UNITS_AFTER = r"(?:mg|mcg|g|kg|ml|l|cc|cm|mm|units?|meq|mmol|%|lb|lbs|mmhg|bpm|am|pm|x|o'clock|mg/dl)\b"
_LABELS_BEFORE = re.compile(
    r"(?:type|stage|grade|class|level|room|bed|lead|phase|zone|gravida|para|step|"
    r"day|pod|hd|cn|cranial nerves?|vertebra|number|no\.|#|page|x|times|score|scale)\s*$",
    re.I,
)
DIGIT = re.compile(r"(?<![\w.,/:+#-])(?P<n>[1-9]|1[0-2])(?P<tail>-[a-z]|\s+[a-z])(?![\w]*\s*/)", re.I)
WORD = re.compile(r"\b(?P<w>two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?P<tail>-[a-z]|\s+[a-z])", re.I)


def number_words(sentence: str, rng: random.Random) -> Edit | None:
    options = []
    for match in DIGIT.finditer(sentence):
        after = sentence[match.start("tail") :]
        if re.match(r"[\s-]*" + _UNITS_AFTER, after, re.I) or _LABELS_BEFORE.search(sentence[: match.start()]):
            continue
        options.append((match, NUMBER_WORDS[int(match.group("n"))]))
    for match in WORD.finditer(sentence):
        if _LABELS_BEFORE.search(sentence[: match.start()]) or re.match(
            r"\s+(?:of|to|or|and)\b", sentence[match.end("w") :], re.I
        ):
            continue
        options.append((match, str(NUMBER_WORDS.index(match.group("w").lower()))))
    if not options:
        return None
    match, new = rng.choice(options)
    if not match.group(1).isalpha():  # digits become a word: capitalise at a sentence start, keep ALL CAPS
        if match.start() == 0 or re.search(r"[.:]\s*$", sentence[: match.start()]):
            new = new.capitalize()
        new = _styled(sentence, new)
    return Edit(sentence[: match.start()] + new + sentence[match.end(1) :])


# --------------------------------------------------------------------------------------
# abbreviations: twice daily <-> BID, by mouth <-> PO, every 6 hours <-> q6h ...
# --------------------------------------------------------------------------------------

_I, _CS = re.I, 0
_NOUN_AFTER_IV = (
    r"(?=\s+(?:fluids?|access|antibiotics?|hydration|contrast|lines?|push|drip|infusion|heparin|"
    r"lasix|furosemide|vancomycin|morphine|dilaudid|pain medications?|medications?|steroids|"
    r"iron|potassium|magnesium|team|site|catheter|bolus|insulin|pca|therapy)\b)"
)
ABBREVIATIONS = [
    # long form -> abbreviation
    (r"\btwice (?:a )?daily\b|\btwice a day\b", "BID", _I),
    (r"\bthree times (?:a )?daily\b|\bthree times a day\b", "TID", _I),
    (r"\bfour times (?:a )?daily\b|\bfour times a day\b", "QID", _I),
    (r"\bby mouth\b", "PO", _I),
    (r"\bevery (\d{1,2}) hours\b", r"q\1h", _I),
    (r"\bsubcutaneously\b", "SC", _I),
    (r"\bintravenously\b", "IV", _I),
    (r"\bintravenous\b" + _NOUN_AFTER_IV, "IV", _I),
    (r"\bas needed\b", "PRN", _I),
    (r"\bhistory of\b(?! present illness)", "h/o", _I),
    (r"\bshortness of breath\b", "SOB", _I),
    (r"\bat bedtime\b", "qHS", _I),
    (r"\bblood pressure\b", "BP", _I),
    (r"\bheart rate\b", "HR", _I),
    (r"\brespiratory rate\b", "RR", _I),
    (r"\bemergency (?:department|room)\b", "ED", _I),
    (r"\bintensive care unit\b", "ICU", _I),
    (r"\bcoronary artery disease\b", "CAD", _I),
    (r"\bcongestive heart failure\b", "CHF", _I),
    (r"\bhypertension\b", "HTN", _I),
    (r"\bdiabetes mellitus\b", "DM", _I),
    (r"\bchronic obstructive pulmonary disease\b", "COPD", _I),
    (r"\batrial fibrillation\b", "AFib", _I),
    (r"\burinary tract infection\b", "UTI", _I),
    (r"\bmyocardial infarction\b", "MI", _I),
    (r"\bdeep (?:vein|venous) thrombosis\b", "DVT", _I),
    (r"\bwithin normal limits\b", "WNL", _I),
    (r"\bno acute distress\b", "NAD", _I),
    (r"\bregular rate and rhythm\b", "RRR", _I),
    (r"\brange of motion\b", "ROM", _I),
    (r"\bstatus post\b", "s/p", _I),
    (r"\bcomplains of\b", "c/o", _I),
    (r"\bnausea and vomiting\b", "N/V", _I),
    (r"\bbowel movements?\b", "BM", _I),
    (r"\bnormal saline\b", "NS", _I),
    (r"\bchest x-ray\b", "CXR", _I),
    (r"\bleft lower extremity\b", "LLE", _I),
    (r"\bright lower extremity\b", "RLE", _I),
    (r"\bleft upper extremity\b", "LUE", _I),
    (r"\bright upper extremity\b", "RUE", _I),
    (r"\bright upper quadrant\b", "RUQ", _I),
    (r"\bleft lower quadrant\b", "LLQ", _I),
    (r"\bright lower quadrant\b", "RLQ", _I),
    (r"\bleft upper quadrant\b", "LUQ", _I),
    (r"\bmagnetic resonance imaging\b", "MRI", _I),
    (r"\bcomputed tomography\b", "CT", _I),
    # abbreviation -> long form
    (r"\bBID\b|\bb\.i\.d\.?(?!\w)", "twice daily", _CS | 0),
    (r"\bTID\b|\bt\.i\.d\.?(?!\w)", "three times daily", _CS),
    (r"\bQID\b|\bq\.i\.d\.?(?!\w)", "four times daily", _CS),
    (r"\bPO\b|\bp\.o\.?(?!\w)", "by mouth", _CS),
    (r"\bq\.?\s?(\d{1,2})\s?h\b\.?", r"every \1 hours", _I),
    (r"\b(?:SC|SQ|subq|subcut)\b", "subcutaneously", _CS),
    (r"\bIV\b" + _NOUN_AFTER_IV, "intravenous", _CS),
    (r"\bPRN\b|\bp\.r\.n\.?(?!\w)", "as needed", _CS),
    (r"\bh/o\b", "history of", _I),
    (r"\bSOB\b", "shortness of breath", _CS),
    (r"\bq\.?h\.?s\.?(?!\w)|\bQHS\b", "at bedtime", _I),
    (r"\bBP\b(?!\s*\d)", "blood pressure", _CS),
    (r"(?<!/)\bHR\b(?!\s*\d)", "heart rate", _CS),  # not "mg/HR" (per hour)
    (r"\bICU\b", "intensive care unit", _CS),
    (r"\bCAD\b", "coronary artery disease", _CS),
    (r"\bCHF\b", "congestive heart failure", _CS),
    (r"\bHTN\b", "hypertension", _CS),
    (r"\bDM\b", "diabetes mellitus", _CS),
    (r"\bCOPD\b", "chronic obstructive pulmonary disease", _CS),
    (r"\bUTI\b", "urinary tract infection", _CS),
    (r"\bDVT\b", "deep vein thrombosis", _CS),
    (r"\bWNL\b", "within normal limits", _CS),
    (r"\bNAD\b", "no acute distress", _CS),
    (r"\bRRR\b", "regular rate and rhythm", _CS),
    (r"\bs/p\b", "status post", _I),
    (r"\bc/o\b", "complains of", _I),
    (r"\bw/o\b", "without", _I),
    (r"\bN/V\b", "nausea and vomiting", _I),
    (r"\bCXR\b", "chest x-ray", _CS),
    (r"\bLLE\b", "left lower extremity", _CS),
    (r"\bRLE\b", "right lower extremity", _CS),
    (r"\bLUE\b", "left upper extremity", _CS),
    (r"\bRUE\b", "right upper extremity", _CS),
    (r"\bRUQ\b", "right upper quadrant", _CS),
    (r"\bLLQ\b", "left lower quadrant", _CS),
    (r"\bRLQ\b", "right lower quadrant", _CS),
    (r"\bLUQ\b", "left upper quadrant", _CS),
]


def abbreviations(sentence: str, rng: random.Random) -> Edit | None:
    changed = _apply(sentence, ABBREVIATIONS, rng, keep_case=False)
    return Edit(changed) if changed else None


# --------------------------------------------------------------------------------------
# synonyms: a short curated list of true synonyms (lay term <-> clinical term)
# --------------------------------------------------------------------------------------

_PAIRS = [  # (a, b): each may replace the other
    ("patient", "pt"),
    ("afebrile", "without fever"),
    ("myocardial infarction", "heart attack"),
    ("hypertension", "high blood pressure"),
    ("hypotension", "low blood pressure"),
    ("renal failure", "kidney failure"),
    ("renal function", "kidney function"),
    ("emesis", "vomiting"),
    ("dyspnea", "shortness of breath"),
    ("pruritus", "itching"),
    ("epistaxis", "nosebleed"),
    ("administered", "given"),
    ("ambulating", "walking"),
    ("ambulated", "walked"),
    ("prior to", "before"),
    ("revealed", "showed"),
    ("physician", "doctor"),
    ("tachycardia", "rapid heart rate"),
    ("bradycardia", "slow heart rate"),
    ("hematuria", "blood in the urine"),
    ("emergency department", "emergency room"),
    ("rhinorrhea", "runny nose"),
    ("diaphoresis", "sweating"),
    ("erythema", "redness"),
    ("myalgias", "muscle aches"),
    ("arthralgias", "joint pains"),
    ("hemoptysis", "coughing up blood"),
    ("dysphagia", "difficulty swallowing"),
    ("dysuria", "painful urination"),
    ("hematemesis", "vomiting blood"),
    ("insomnia", "trouble sleeping"),
    ("postoperatively", "after surgery"),
    ("preoperatively", "before surgery"),
    ("cerebrovascular accident", "stroke"),
    ("syncope", "fainting"),
]
_ONE_WAY = [
    ("unremarkable", "normal"),
    ("edema", "swelling"),
    ("demonstrated", "showed"),
    ("commenced", "started"),
    ("upon", "on"),
]
_TOLERATED = (
    r"\btolerated (the procedure|the procedure and anesthesia|it|this|the surgery|the operation|"
    r"the treatment|the feeding|the diet|the transfusion|the exam)"
)


def _synonym_table() -> list[tuple[str, object, int]]:
    table = []
    for a, b in _PAIRS:
        table.append((rf"\b{re.escape(a)}\b", b, re.I))
        table.append((rf"\b{re.escape(b)}\b", a, re.I))
    table += [(rf"\b{re.escape(a)}\b", b, re.I) for a, b in _ONE_WAY]
    table.append((r"\bapproximately\b(?=\s+\d)", "about", re.I))
    table.append((_TOLERATED + r" well\b", r"tolerated \1 without difficulty", re.I))
    table.append((_TOLERATED + r" without (?:difficulty|problems?|complications?)\b", r"tolerated \1 well", re.I))
    return table


SYNONYMS = _synonym_table()
_NOT_SYNONYM = re.compile(
    r"\bpt\b(?=\s*(?:/|inr|\d|and ptt|ptt|eval|consult|ot\b|session|evaluation|to see))|"
    r"\bPT\b|\bnormal saline\b|\bstroke volume\b|\bbefore (?:and|or)\b",
    re.I,
)


def synonyms(sentence: str, rng: random.Random) -> Edit | None:
    table = [(p, n, f) for p, n, f in SYNONYMS if not (p.startswith(r"\bpt") and _NOT_SYNONYM.search(sentence))]
    changed = _apply(sentence, table, rng, keep_case=True)
    if changed and re.search(r"\bPT\b", changed) and not re.search(r"\bPT\b", sentence):
        return None  # "pt" in an all-caps note reads as physical therapy
    return Edit(changed) if changed else None


# --------------------------------------------------------------------------------------
# reordered_clauses: "A; B." -> "B; A."
# --------------------------------------------------------------------------------------

_VERB = re.compile(
    r"\b(?:is|are|was|were|has|have|had|will|does|did|remains?|remained|appears?|appeared|shows?|"
    r"showed|reveals?|revealed|denies|denied|reports|reported|underwent|received|tolerated|"
    r"can|could|should|would|may|must|\w{3,}ed)\b",
    re.I,
)
_DEPENDENT = re.compile(
    r"^(?:then|subsequently|after|afterwards|later|which|who|but|so|therefore|thus|however|"
    r"because|since|as|although|though|this|that|it|these|those|he|she|they|his|her|their|"
    r"and then|where|when|while|with|without|or|nor|also|too|otherwise|if|\d)\b",
    re.I,
)


_SUBJECT = re.compile(
    r"(?:the|a|an|his|her|their|its|he|she|they|we|i|it|there|pt|patient|(?-i:[A-Z]{2,}))\b|"
    r"(?:[\w/-]+\s+){1,4}(?:is|are|was|were|has|have|had|remains|remained|appears|will|"
    r"should|can|could|may)\b",
    re.I,
)


_PRESENT = re.compile(
    r"\b(?:is|are|has|have|remains|remain|appears|appear|does|do|denies|reports|continues|"
    r"shows|can|will|should|may|feels|lives|takes|uses)\b",
    re.I,
)
_PAST = re.compile(r"\b(?:was|were|had|did|then)\b", re.I)


def reordered_clauses(sentence: str, rng: random.Random) -> Edit | None:
    body = squash(sentence[LABEL.match(sentence).end() :])
    if not body or re.search(r"\b(?:then|after|before|followed by|subsequently|until|prior to)\b", body, re.I):
        return None  # order carries time
    for separator in ("; ", ", and ", " and "):
        parts = body.split(separator)
        if len(parts) != 2:
            continue
        first, second = strip_end(parts[0]), strip_end(parts[1])
        if len(first.split()) < 3 or len(second.split()) < 3:
            continue
        if not (_PRESENT.search(first) and _PRESENT.search(second)) or _PAST.search(body):
            continue  # past-tense clauses narrate a sequence: "A was done and B was done" keeps its order
        if not _SUBJECT.match(second) or re.match(r"^[\w-]+(?:\s+[\w-]+)?\s+(?:that|which|who)\b", second, re.I):
            continue  # "... and feels that ...": the second clause borrows the first one's subject
        if _DEPENDENT.match(second) or _VERB.match(second) or NEGATION.search(first) and separator != "; ":
            continue  # "No fever and chills": the negation scopes over both
        if separator != "; " and ("," in first or ";" in body):
            continue  # "A, B, and C" is a list, not two clauses
        if re.search(r"\b(?:both|either|between|neither)\b", first, re.I):
            continue  # "both A and B" is one phrase
        if not (_VERB.search(first) and _VERB.search(second)):
            continue
        joiner = "; " if separator == "; " else ", and "
        claim = second[:1].upper() + second[1:] + joiner + lower_first(first) + "."
        return Edit(claim)
    return None


# --------------------------------------------------------------------------------------
# unit_synonyms: cc <-> mL, mcg <-> micrograms, kg <-> kilograms ...
# --------------------------------------------------------------------------------------


def _plural(match: re.Match, singular: str) -> str:
    number = match.group("n")
    return singular if number in {"1", "1.0"} else singular + "s"


_N = r"(?P<n>\d+(?:\.\d+)?)(?P<sp>\s?)"
_END = r"(?![\w/])"
UNIT_SYNONYMS = [
    (_N + r"cc" + _END, lambda m: f"{m.group('n')} mL", re.I),
    (_N + r"(?:ml|mL)" + _END, lambda m: f"{m.group('n')} cc", 0),
    (_N + r"mcg" + _END, lambda m: f"{m.group('n')} {_plural(m, 'microgram')}", re.I),
    (_N + r"(?:ug|µg|μg)" + _END, lambda m: f"{m.group('n')} mcg", 0),
    (_N + r"mg" + _END, lambda m: f"{m.group('n')} {_plural(m, 'milligram')}", re.I),
    (_N + r"kg" + _END, lambda m: f"{m.group('n')} {_plural(m, 'kilogram')}", re.I),
    (_N + r"(?:lbs?)" + _END, lambda m: f"{m.group('n')} {_plural(m, 'pound')}", re.I),
    (_N + r"pounds" + _END, lambda m: f"{m.group('n')} lb", re.I),
    (_N + r"cm" + _END, lambda m: f"{m.group('n')} {_plural(m, 'centimeter')}", re.I),
    (_N + r"mm" + _END + r"(?!\s*hg)", lambda m: f"{m.group('n')} {_plural(m, 'millimeter')}", re.I),
    (_N + r"mmHg" + _END, lambda m: f"{m.group('n')} mm Hg", re.I),
    (_N + r"mm Hg" + _END, lambda m: f"{m.group('n')} mmHg", re.I),
    (_N + r"(?:L)(?![\w/])", lambda m: f"{m.group('n')} {_plural(m, 'liter')}", 0),
    (_N + r"g" + _END, lambda m: f"{m.group('n')} {_plural(m, 'gram')}", 0),
    (_N + r"mEq" + _END, lambda m: f"{m.group('n')} {_plural(m, 'milliequivalent')}", re.I),
    (r"(?P<n>\d+(?:\.\d+)?)%", lambda m: f"{m.group('n')} percent", 0),
    (_N + r"(?:hrs|hr)" + _END, lambda m: f"{m.group('n')} {_plural(m, 'hour')}", re.I),
    (_N + r"(?:mins|min)" + _END, lambda m: f"{m.group('n')} {_plural(m, 'minute')}", re.I),
]


def unit_synonyms(sentence: str, rng: random.Random) -> Edit | None:
    table = [(rf"(?<![\w.]){p}", n, f) for p, n, f in UNIT_SYNONYMS]
    changed = _apply(sentence, table, rng, keep_case=False)
    return Edit(changed) if changed else None


# Labels whose words carry meaning the sentence lacks ("FAMILY HISTORY: Diabetes", "ALLERGIES: Penicillin").
MEANINGFUL_LABEL = re.compile(
    r"famil|fhx|\bfh\b|allerg|plan|recommend|rule|r/o|differential|negative|denies|"
    r"pending|follow|instruction|indication|reason|goal|risk|precaution|consent|"
    r"discharge med|history|pmh|psh|\bp\b|\ba\b|assessment|impression|ros|review|spouse|partner|mother|"
    r"father|sibling|child|social|parent",
    re.I,
)


def label_stripped(sentence: str, rng: random.Random) -> Edit | None:
    label = sentence[: LABEL.match(sentence).end()]
    stripped = sentence[len(label) :]
    if MEANINGFUL_LABEL.search(label):
        return None
    if stripped != sentence and len(stripped.split()) >= 4:
        return Edit(stripped)
    return None


def first_clause(sentence: str, rng: random.Random) -> Edit | None:
    stripped = sentence[LABEL.match(sentence).end() :]
    clause = re.split(r"[;,]\s", stripped, maxsplit=1)[0]
    if clause != stripped and len(clause.split()) >= 4:
        return Edit(clause, (clause,))
    return None
