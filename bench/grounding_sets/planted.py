"""Planted errors: each function changes one real sentence so that it no longer says what the note says.

The claim is the changed sentence; the citation quotes the original sentence (Edit.quotes empty),
except where a function says otherwise (quote_out_of_context quotes the fragment itself).
Tables are data; the functions only find where a table applies and apply one entry.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

from .text import (
    HEDGE,
    LABEL,
    LIST_MARKER,
    MED_CONTEXT,
    NEGATION,
    PROCEDURE,
    Edit,
    case_like,
    end_period,
    rule_apply,
    rules,
    squash,
    strip_end,
    upper_first,
)

# --------------------------------------------------------------------------------------
# frequency_changed
# --------------------------------------------------------------------------------------

_Q_HOURS = {1: 2, 2: 4, 3: 6, 4: 6, 6: 8, 8: 12, 12: 6, 24: 12, 48: 24, 72: 48}
_LATIN = {"qd": "bid", "bid": "tid", "tid": "bid", "qid": "bid", "qhs": "bid", "qod": "qd", "qam": "bid"}
_DOSE_BEFORE_DAILY = r"(?:mg|mcg|g|units?|tablets?|tabs?|capsules?|caps?|puffs?|drops?|ml|meq|po|p\.o\.|iv|sc|sq|subq|orally|mouth|subcutaneously|topically|inhaled)"


def _latin(match: re.Match, rng: random.Random) -> str | None:
    old = match.group(0)
    letters = re.sub(r"[^a-z]", "", old.lower())
    new = _LATIN.get(letters)
    if new is None:
        return None
    if "." in old:  # b.i.d. -> t.i.d.
        new = ".".join(new) + "."
    return new.upper() if old[:1].isupper() else new


def _hours(match: re.Match, rng: random.Random) -> str | None:
    old = int(match.group("n"))
    if old not in _Q_HOURS:
        return None
    whole, n_start = match.group(0), match.start("n") - match.start()
    return whole[:n_start] + str(_Q_HOURS[old]) + whole[n_start + len(match.group("n")) :]


def _daily(match: re.Match, rng: random.Random) -> str:
    return match.group(1) + rng.choice(["twice daily", "BID"])


def _prn_add(match: re.Match, rng: random.Random) -> str | None:
    return match.group(0) + " PRN"


FREQUENCY = rules(
    [
        (r"\bonce (?:a )?daily\b|\bonce a day\b", ["twice daily"]),
        (r"\btwice (?:a )?daily\b|\btwice a day\b", ["three times daily", "once daily"]),
        (r"\bthree times (?:a )?daily\b|\bthree times a day\b", ["twice daily", "four times daily"]),
        (r"\bfour times (?:a )?daily\b|\bfour times a day\b", ["twice daily"]),
        (r"(?<![\w.])(?:q\.?d|b\.?i\.?d|t\.?i\.?d|q\.?i\.?d|q\.?h\.?s|q\.?o\.?d|q\.?a\.?m)\.?(?![\w])", _latin),
        (r"\bq\.?\s?(?P<n>\d{1,2})\s?(?:h|hr|hrs|hours?)\b\.?", _hours),
        (r"\bevery (?P<n>\d{1,2}) hours\b", _hours),
        (r"\bevery other day\b", ["daily"]),
        (r"\bweekly\b", ["daily"]),
        (r"\bnightly\b|\bat bedtime\b", ["twice daily"]),
        (rf"(\b{_DOSE_BEFORE_DAILY}\s+)daily\b", _daily),
    ]
)
# PRN dropped (with its reason: the order becomes scheduled) or added to a scheduled frequency.
PRN_DROP = re.compile(r",?\s*\b(?:PRN|p\.r\.n\.?|as needed)(?:\s+(?:for\s+)?[^,.;()]*)?", re.I)
PRN_ADD = rules([(r"\bq\.?\s?\d{1,2}\s?h\b|\bevery \d{1,2} hours\b", _prn_add)])


def frequency_changed(sentence: str, rng: random.Random) -> Edit | None:
    if not MED_CONTEXT.search(sentence):
        return None
    has_prn = re.search(r"\b(?:PRN|p\.r\.n|as needed)\b", sentence, re.I)
    choice = rng.random()
    if has_prn and choice < 0.3:
        changed = PRN_DROP.sub("", sentence, count=1)
        return Edit(changed) if changed != sentence else None
    if not has_prn and choice < 0.15:
        changed = rule_apply(sentence, PRN_ADD, rng)
        if changed:
            return Edit(changed)
    changed = rule_apply(sentence, FREQUENCY, rng)
    return Edit(changed) if changed else None


# --------------------------------------------------------------------------------------
# lab_values_swapped
# --------------------------------------------------------------------------------------

_LAB_NAMES = (
    r"sodium|potassium|chloride|bicarbonate|bicarb|co2|bun|creatinine|glucose|calcium|magnesium|phosphorus|"
    r"hemoglobin(?: a1c)?|hematocrit|hgb|hct|white (?:blood )?(?:cell )?count|wbc|platelets?(?: count)?|plts?|"
    r"inr|ptt|albumin|ast|alt|alkaline phosphatase|alk phos|(?:total )?bilirubin|troponin|bnp|lactate|"
    r"lactic acid|tsh|a1c|heart rate|pulse|respirations?|respiratory rate|temperature|temp|tmax|"
    r"(?:oxygen )?saturation|o2 sat(?:uration)?|sats?|spo2|pulse ox(?:imetry)?|weight|ph|pco2|po2|hco3|"
    r"ammonia|lipase|amylase|ck|esr|crp|ldl|hdl|triglycerides|cholesterol|hr|rr|cr|phos|glu|"
    r"(?-i:T|P|R|K|Na|NA|Mg|MG|Ca|CA|Cl|CL|PT)"
)
LAB_PAIR = re.compile(
    rf"(?<![\w/])(?P<name>{_LAB_NAMES})(?P<sep>\s*(?:is|was|of|at|:|=)?\s*)"
    r"(?P<value>\d+(?:\.\d+)?)(?![\d/.]|s\b|\s*-\s*\d|\s*to\s*\d)",
    re.I,
)


def lab_values_swapped(sentence: str, rng: random.Random) -> Edit | None:
    pairs = list(LAB_PAIR.finditer(sentence))
    options = [
        (a, b)
        for i, a in enumerate(pairs)
        for b in pairs[i + 1 :]
        if float(a.group("value")) != float(b.group("value")) and a.group("name").lower() != b.group("name").lower()
    ]
    if not options:
        return None
    same_kind = [(a, b) for a, b in options if ("." in a.group("value")) == ("." in b.group("value"))]
    a, b = rng.choice(same_kind or options)
    out = (
        sentence[: a.start("value")]
        + b.group("value")
        + sentence[a.end("value") : b.start("value")]
        + a.group("value")
        + sentence[b.end("value") :]
    )
    return Edit(out)


# --------------------------------------------------------------------------------------
# status_flipped
# --------------------------------------------------------------------------------------

STATUS = rules(
    [
        (r"\bstarted\b(?! to)", ["stopped", "held"]),
        (r"\bstarting\b(?! to)", ["stopping"]),
        (r"\brestarted\b", ["stopped", "held"]),
        (r"\bre-?started\b", ["stopped"]),
        (r"\bresumed\b", ["held", "stopped"]),
        (r"\binitiated\b", ["discontinued"]),
        (r"\bbegun\b", ["stopped"]),
        (r"\bheld\b(?! (?:in|at|by|for \d))", ["continued", "restarted"]),
        (r"\bholding\b", ["continuing"]),
        (r"\bdiscontinued\b", ["continued", "restarted"]),
        (r"\bdiscontinue\b", ["continue"]),
        (r"\bstopped\b", ["started", "continued"]),
        (r"\bcontinued\b(?! to)", ["discontinued", "held"]),
        (r"\bcontinue\b(?! to)", ["discontinue", "hold"]),
        (r"\bcontinuing\b(?! to)", ["stopping"]),
        (r"\bd/c(?:'?ed|'?d)\b", ["continued"]),
        (
            r"\boff(?= (?:of )?(?:pressors|vasopressors|the drip|drips?|heparin|insulin|sedation|propofol|levophed|"
            r"dopamine|neo|bipap|oxygen|o2|the vent|vent|the ventilator)\b)",
            ["on"],
        ),
    ]
)


def status_flipped(sentence: str, rng: random.Random) -> Edit | None:
    if not MED_CONTEXT.search(sentence):
        return None
    changed = rule_apply(sentence, STATUS, rng)
    return Edit(changed) if changed else None


# --------------------------------------------------------------------------------------
# direction_flipped
# --------------------------------------------------------------------------------------

DIRECTION = rules(
    [
        (r"\bimproved\b", ["worsened"]),
        (r"\bimproving\b", ["worsening"]),
        (r"\bimprovement\b", ["worsening"]),
        (r"\bimproves\b", ["worsens"]),
        (r"\bworsened\b", ["improved"]),
        (r"\bworsening\b", ["improving"]),
        (r"\bworsens\b", ["improves"]),
        (r"\bincreased\b", ["decreased"]),
        (r"\bdecreased\b", ["increased"]),
        (r"\bincreasing\b", ["decreasing"]),
        (r"\bdecreasing\b", ["increasing"]),
        (r"\bincrease\b", ["decrease"]),
        (r"\bdecrease\b", ["increase"]),
        (r"\bbetter\b", ["worse"]),
        (r"\bworse\b", ["better"]),
        (r"\brising\b", ["falling"]),
        (r"\bfalling\b(?! asleep)", ["rising"]),
        (r"\buptrending\b|\bup-trending\b", ["downtrending"]),
        (r"\bdowntrending\b|\bdown-trending\b", ["uptrending"]),
        (r"\b(?:trending|titrated|went|gone|going|weaned) up\b", lambda m, r: m.group(0)[:-2] + "down"),
        (r"\b(?:trending|titrated|went|gone|going|weaned) down\b", lambda m, r: m.group(0)[:-4] + "up"),
        (r"\bhigher than\b", ["lower than"]),
        (r"\blower than\b", ["higher than"]),
        (r"\belevated\b(?= (?:from|to)\b)", ["lowered"]),
    ]
)


def direction_flipped(sentence: str, rng: random.Random) -> Edit | None:
    changed = rule_apply(sentence, DIRECTION, rng)
    return Edit(changed) if changed else None


# --------------------------------------------------------------------------------------
# hedge_dropped
# --------------------------------------------------------------------------------------

_CLAUSE_START = r"(?:(?<=^)|(?<=[:;,(]\s)|(?<=\d[.)]\s)|(?<=-\s))"
HEDGES = rules(
    [
        (
            r"\b(?:most likely|more likely|very likely|likely|possible|probable|suspected|"
            r"questionable|presumed|presumptive|a question of|query)\s+(?=[a-z(])"
            r"(?!(?:complications|risks?|side effects|benefits|adverse|outcomes?|options|need)\b)",
            [""],
        ),
        (rf"{_CLAUSE_START}(?:to\s+)?(?:rule out|r/o)\s+", [""]),
        (r"\b(?:concern for|concerning for|suspicious for|worrisome for|suggestive of)\s+", ["showing "]),
        (r"\b(?:is|are) (?:a )?concern for\s+", ["is "]),
        (r"\bcannot (?:be )?(?:excluded|ruled out)\b", ["is present"]),
        (r"\bcannot (?:exclude|rule out)\b", ["shows"]),
        (r"\bmay have\b|\bmight have\b", ["has"]),
        (
            r"\b(?:may|might|could) be\b(?= (?:due|related|secondary|consistent|caused|from|an?|the|"
            r"[a-z]+(?:ic|al|ous|ive))\b)",
            ["is"],
        ),
        (r"\bmay represent\b|\blikely represents?\b|\bcould represent\b", ["represents"]),
        (r"\bmay reflect\b|\blikely reflects?\b", ["reflects"]),
        (r"\bis likely\b", ["is"]),
        (r"\s+(?:versus|vs\.)\s+[\w-]+(?:\s+[\w-]+)?(?=[,.;)]|$)", [""]),
    ],
    keep_case=False,
)


def hedge_dropped(sentence: str, rng: random.Random) -> Edit | None:
    changed = rule_apply(sentence, HEDGES, rng)
    if not changed:
        return None
    if sentence.isupper():
        changed = changed.upper()
    changed = re.sub(
        r"^(\s*(?:[-*]\s*|\d{1,2}[.)]\s*)?(?:[A-Z][A-Za-z /&]{0,40}:\s*)?)([a-z])",
        lambda m: m.group(1) + m.group(2).upper(),
        changed,
    )
    return Edit(changed)


# --------------------------------------------------------------------------------------
# family_as_patient
# --------------------------------------------------------------------------------------

_RELATIVE = (
    r"(?:mother|father|mom|dad|mgf|mgm|pgf|pgm|grandma|grandpa|brother|sister|sibling|siblings|aunt|uncle|grandmother|grandfather|"
    r"grandparents?|son|daughter|parents?|cousin|twin|(?:maternal|paternal) (?:grandmother|grandfather|"
    r"aunt|uncle|grandparents?|side|relatives?)|relatives?|family members?)"
)
FAMILY_OF = re.compile(
    r"\b(?P<neg>no\s+(?:known\s+)?)?family history\s+(?:is\s+|was\s+)?(?:(?:positive|"
    r"significant|remarkable|notable|pertinent)\s+)?(?:of|for)\s+(?P<x>[^.;]+)",
    re.I,
)
RELATIVE_HAD = re.compile(
    rf"\b(?:(?:his|her|the patient's|patient's|a)\s+)?{_RELATIVE},?\s+(?:\w+\s+)?(?:had|has|have|with|"
    r"(?:died|passed away)(?:\s+(?:in (?:his|her) \d+s|at (?:the )?age (?:of )?\d+|at \d+))?\s+(?:of|from|with)|"
    r"suffered from|suffers from|was diagnosed with|diagnosed with|is diagnosed with|is positive for|history of|"
    r"with a history of|with history of|with h/o|h/o)\s+(?P<x>[^.;]+)",
    re.I,
)
IN_RELATIVE = re.compile(
    r"\b(?:history of|positive for|significant for|remarkable for|has|had|with)\s+(?P<x>[^.;]+?)\s+(?:in|on) "
    rf"(?:his|her|the|their|a|both)\s+(?:maternal |paternal )?(?:{_RELATIVE}|family|side of the family)\b",
    re.I,
)
POSITIVE_FOR = re.compile(
    rf"^(?:there is |there was )?(?:a |strong )?(?P<lead>(?:positive|significant|remarkable|notable) for|history of)"
    rf"\s+(?P<x>.+?)\s+(?:in|on) (?:his|her|the|a|both)\s+(?:maternal |paternal )?{_RELATIVE}(?P<rest>.*)$",
    re.I,
)
_VAGUE = re.compile(
    r"^(?:non-?contributory|unknown|unremarkable|negative|none|noncontributory|reviewed|"
    r"as above|significant|positive|the|a|an|his|her|their|him|them|it|this|that|age|he|she|they|"
    r"there|patient|pt|no|not|otherwise|both|all|family|mother|father|parents|siblings|"
    r"is|was|are|were|has|had|have|lives|living|alive|deceased|died|passed|adopted|\d)\b",
    re.I,
)


_DISEASE = re.compile(
    r"\b(?:cancer|carcinoma|disease|diabetes|hypertension|stroke|attack|infarction|failure|dementia|alzheimer'?s?|"
    r"asthma|copd|emphysema|arthritis|lupus|depression|bipolar|schizophrenia|anxiety|alcoholism|addiction|abuse|"
    r"obesity|thyroid|leukemia|lymphoma|melanoma|tumors?|aneurysms?|clots?|thrombosis|embolism|anemia|migraines?|"
    r"seizures?|epilepsy|glaucoma|cholesterol|hyperlipidemia|syndrome|sclerosis|kidney|renal|liver|cirrhosis|"
    r"hepatitis|tuberculosis|polyps|osteoporosis|parkinson'?s?|cardiac|heart|cad|htn|dm|mi|cva|chf|afib|"
    r"malignancy|illness|disorder|problems|allergies|sickle|cystic|bleeding|deafness|blindness|autism|"
    r"\w+itis|\w+oma|\w+osis|\w+emia|\w+pathy|\w+ism)\b",
    re.I,
)


def finding_of(text: str) -> str | None:
    text = strip_end(re.sub(r"\s+", " ", text))
    text = re.split(
        r"\s+(?:(?:in|on) (?:his|her|the|their|both|all) |who |which |at (?:the )?age|at \d|and (?:his|her) |probably|"
        r"possibly|likely|when |since |but |and history|and (?:one|his|her|a|another|the) |as well as (?:a |an )?history|in (?:the )?family)|"
        r",\s*(?:but|and (?:he|she|his|her)|age)\b",
        text,
    )[0]
    text = strip_end(re.sub(r"^(?:a|an|the)\s+", "", text, flags=re.I))
    if (
        not text
        or _VAGUE.match(text)
        or len(text.split()) > 10
        or not _DISEASE.search(text)
        or re.search(r"\b(?:history|family|side|sides)\b", text, re.I)
    ):
        return None
    if re.search(_RELATIVE, text, re.I):  # "diabetes in his mother" is still family history
        return None
    return text


def family_as_patient(sentence: str, rng: random.Random) -> Edit | None:
    body = sentence[LABEL.match(sentence).end() :].strip()
    match = FAMILY_OF.search(body)
    if match:
        finding = finding_of(match.group("x"))
        if finding:
            lead = "No history of" if match.group("neg") else rng.choice(["History of", "The patient has"])
            return Edit(f"{lead} {finding}.")
    match = RELATIVE_HAD.search(body)
    if match and not NEGATION.search(body[: match.start()]):
        finding = finding_of(match.group("x"))
        if finding:
            form = rng.choice(["{x}.", "History of {x}.", "The patient has {x}."])
            return Edit(form.format(x=upper_first(finding) if form.startswith("{") else finding))
    match = IN_RELATIVE.search(body)
    if match and not NEGATION.search(body[: match.start()]):
        finding = finding_of(match.group("x"))
        if finding:
            return Edit(f"{rng.choice(['History of', 'The patient has'])} {finding}.")
    match = POSITIVE_FOR.match(body)
    if match:
        finding = finding_of(match.group("x"))
        if finding:
            lead = match.group("lead").lower()
            return Edit(f"History of {finding}." if lead == "history of" else f"History {lead} {finding}.")
    return None


# --------------------------------------------------------------------------------------
# plan_as_done
# --------------------------------------------------------------------------------------

PAST = {
    "start": "started",
    "begin": "began",
    "initiate": "initiated",
    "obtain": "obtained",
    "get": "got",
    "check": "checked",
    "recheck": "rechecked",
    "repeat": "repeated",
    "perform": "performed",
    "do": "did",
    "give": "gave",
    "transfuse": "transfused",
    "discharge": "discharged",
    "place": "placed",
    "send": "sent",
    "consult": "consulted",
    "add": "added",
    "increase": "increased",
    "decrease": "decreased",
    "wean": "weaned",
    "extubate": "extubated",
    "intubate": "intubated",
    "remove": "removed",
    "proceed": "proceeded",
    "admit": "admitted",
    "treat": "treated",
    "resume": "resumed",
    "restart": "restarted",
    "undergo": "underwent",
    "have": "had",
    "see": "saw",
    "evaluate": "evaluated",
    "titrate": "titrated",
    "change": "changed",
    "switch": "switched",
    "discontinue": "discontinued",
    "stop": "stopped",
    "hold": "held",
    "draw": "drew",
    "order": "ordered",
    "transfer": "transferred",
    "insert": "inserted",
    "replace": "replaced",
    "administer": "administered",
    "refer": "referred",
    "biopsy": "biopsied",
    "excise": "excised",
    "drain": "drained",
    "repair": "repaired",
    "taper": "tapered",
    "advance": "advanced",
    "notify": "notified",
    "contact": "contacted",
    "culture": "cultured",
    "prescribe": "prescribed",
    "schedule": None,
    "follow up": "followed up",
    "return": "returned",
    "receive": "received",
    "dc": None,
}
PARTICIPLE = {
    "started": "was started",
    "begun": "was begun",
    "initiated": "was initiated",
    "obtained": "was obtained",
    "checked": "was checked",
    "rechecked": "was rechecked",
    "repeated": "was repeated",
    "performed": "was performed",
    "done": "was done",
    "given": "was given",
    "transfused": "was transfused",
    "discharged": "was discharged",
    "placed": "was placed",
    "sent": "was sent",
    "consulted": "was consulted",
    "added": "was added",
    "increased": "was increased",
    "decreased": "was decreased",
    "weaned": "was weaned",
    "extubated": "was extubated",
    "removed": "was removed",
    "admitted": "was admitted",
    "treated": "was treated",
    "resumed": "was resumed",
    "restarted": "was restarted",
    "seen": "was seen",
    "evaluated": "was evaluated",
    "titrated": "was titrated",
    "changed": "was changed",
    "switched": "was switched",
    "discontinued": "was discontinued",
    "stopped": "was stopped",
    "drawn": "was drawn",
    "transferred": "was transferred",
    "inserted": "was inserted",
    "administered": "was administered",
    "referred": "was referred",
    "biopsied": "was biopsied",
    "tapered": "was tapered",
    "advanced": "was advanced",
    "scheduled": None,
    "followed": None,
}
GERUND = {
    "starting": "started",
    "obtaining": "obtained",
    "checking": "checked",
    "repeating": "repeated",
    "performing": "performed",
    "adding": "added",
    "increasing": "increased",
    "decreasing": "decreased",
    "discontinuing": "discontinued",
    "stopping": "stopped",
    "holding": "held",
    "switching": "switched",
    "changing": "changed",
    "initiating": "initiated",
    "resuming": "resumed",
    "restarting": "restarted",
    "transfusing": "transfused",
    "placing": "placed",
    "getting": "got",
    "weaning": "weaned",
}
_VERBS = "|".join(sorted((v for v in PAST if PAST[v]), key=len, reverse=True))
_PARTS = "|".join(sorted((v for v in PARTICIPLE if PARTICIPLE[v]), key=len, reverse=True))
_GERUNDS = "|".join(GERUND)
_NP_END = r"(?=[,.;:)]|\s+(?:and|if|when|for|to|once|after|with|in|on|at|as|prior|before|pending)\b|$)"

PLANS = rules(
    [
        (
            rf"\bwill (?:also |then |likely |need to |plan to )?(?P<v>{_VERBS})\b",
            lambda m, r: PAST[m.group("v").lower()],
        ),
        (rf"\bwill (?:also |then |likely )?be (?P<v>{_PARTS})\b", lambda m, r: PARTICIPLE[m.group("v").lower()]),
        (
            rf"\b(?:we |i )?(?:plan(?:s|ned)? to|are planning to|is planning to|planning to|the plan is to|plan is to)"
            rf" (?P<v>{_VERBS})\b",
            lambda m, r: PAST[m.group("v").lower()],
        ),
        (
            rf"\b(?:we |i )?(?:would |will )?(?:recommend(?:ed|s)?|suggest(?:ed)?|consider(?:ing)?|advise(?:d)?) "
            rf"(?P<v>{_GERUNDS})\b",
            lambda m, r: GERUND[m.group("v").lower()],
        ),
        (r"\b(?:is |are )?to be (?:scheduled|arranged)\b", ["was done", "was performed"]),
        (
            r"(?<!needed )(?<!needs )(?<!need )(?<!tried )(?<!going )(?<!wanted )(?<!wants )(?<!has )(?<!had )\b(?:is |are )?to be "
            r"(?P<v>done|performed|obtained|completed|placed|started|given|discharged|seen)\b",
            lambda m, r: "was " + m.group("v"),
        ),
        (r"\b(?:is |was |has been |will be |to be )?scheduled for(?= (?:an? |the )?[a-z])", ["underwent"]),
        (r"\b(?:is )?pending(?= (?:an? |the )?(?:\w+ectomy|\w+oscopy|surgery|ct|mri|biopsy|echo))", ["underwent"]),
    ],
    keep_case=False,
)
RECOMMEND = re.compile(
    r"^(?P<pre>.*?)\b(?:we |i )?(?:would |will |strongly )?(?:recommend(?:ed|s)?|suggest(?:ed|s)?|consider|"
    rf"advise(?:d)?)\s+(?:(?:a|an|the|that we obtain|obtaining|getting)\s+)?(?P<x>[\w][\w /-]{{2,60}}?){_NP_END}",
    re.I,
)
IMPERATIVE = re.compile(
    rf"^(?P<lead>\s*(?:[-*]\s*|\d{{1,2}}[.)]\s*)?)(?:(?:plan|p|recommendations?|rec|recs)\s*:\s*)?"
    rf"(?P<v>{_VERBS})\b(?P<rest>.*)$",
    re.I,
)


def plan_as_done(sentence: str, rng: random.Random, section: str = "") -> Edit | None:
    if re.search(r"\b(?:if|unless|should|prn|as needed|when needed|in case)\b", sentence, re.I):
        return None  # a conditional plan is not a plan that would simply be done
    changed = rule_apply(sentence, PLANS, rng)
    if changed:
        return Edit(_capitalize_after_label(changed))
    match = RECOMMEND.match(sentence)
    if (
        match
        and PROCEDURE.search(match.group("x"))
        and not re.match(
            r"(?:that|he|she|they|the patient|to|him|"
            r"her|them|continu|follow)",
            match.group("x"),
            re.I,
        )
    ):
        return Edit(f"{upper_first(match.group('x').strip())} was done.")
    if match and MED_CONTEXT.fullmatch(match.group("x").split()[0]):
        return Edit(f"Started {match.group('x').strip()}.")
    plan_context = re.search(r"plan|recommend|follow", section, re.I) or re.match(
        r"\s*(?:plan|p|recommendations?|recs?)\s*:", sentence, re.I
    )
    match = IMPERATIVE.match(sentence)
    if plan_context and match and PAST.get(match.group("v").lower()):
        verb = PAST[match.group("v").lower()]
        return Edit(match.group("lead") + case_like(match.group("v"), upper_first(verb)) + match.group("rest"))
    return None


def _capitalize_after_label(text: str) -> str:
    return re.sub(
        r"^(\s*(?:[-*]\s*|\d{1,2}[.)]\s*)?(?:[A-Z][A-Za-z /&]{0,40}:\s*)?)([a-z])",
        lambda m: m.group(1) + m.group(2).upper(),
        text,
    )


# --------------------------------------------------------------------------------------
# quote_out_of_context
# --------------------------------------------------------------------------------------

CONTEXT_TRIGGERS = re.compile(
    r"\b(?P<neg>no|denies|denied|negative for|without|free of|absence of|never had|no evidence of|"
    r"no history of|no signs? of|ruled out for)\s+|"
    r"\b(?P<hedge>possible|probable|suspected|questionable|likely|rule out|r/o|concern for|concerning for|"
    r"suspicious for|cannot exclude|may have|presumed)\s+|"
    r"\b(?P<family>family history of|family history is significant for|family history is positive for|"
    rf"{_RELATIVE} (?:had|has|with|died of|died from))\s+|"
    r"\b(?P<cond>if (?:he |she |the patient |pt |patient )?(?:develops|has|experiences|notes|notices|gets)|"
    r"return (?:to the er |to the ed |to clinic )?for|call for|in case of|should (?:he |she )?develop)\s+",
    re.I,
)
_STOP_END = {
    "of",
    "the",
    "a",
    "an",
    "and",
    "or",
    "with",
    "to",
    "in",
    "on",
    "at",
    "for",
    "any",
    "is",
    "was",
    "his",
    "her",
    "their",
    "from",
    "by",
    "as",
    "but",
    "nor",
    "if",
    "that",
}
_BAD_START = {
    "any",
    "other",
    "further",
    "known",
    "significant",
    "acute",
    "new",
    "change",
    "changes",
    "more",
    "than",
    "be",
    "been",
    "being",
    "a",
    "an",
    "the",
    "to",
    "only",
    "one",
    "longer",
    "need",
    "needs",
    "problems",
    "complaints",
    "issues",
    "apparent",
    "distress",
    "evidence",
    "history",
    "sign",
    "signs",
}


def quote_out_of_context(sentence: str, chunk_text: str, rng: random.Random) -> Edit | None:
    """A 2-5 word fragment that the surrounding words negate, hedge, attribute to family or make conditional."""
    triggers = list(CONTEXT_TRIGGERS.finditer(sentence))
    rng.shuffle(triggers)
    for trigger in triggers:
        tail = sentence[trigger.end() :]
        words = re.match(r"[A-Za-z][A-Za-z'-]*(?:\s+[A-Za-z][A-Za-z'/-]*){0,6}", tail)
        if not words:
            continue
        tokens = re.split(r"\s+", words.group(0))
        tokens = _fragment_tokens(tokens)
        if not tokens or not (2 <= len(tokens) <= 5):
            continue
        fragment = tail[: _span_of(tail, tokens)]
        if len(re.findall(re.escape(fragment), chunk_text, re.I)) != 1:
            continue  # the fragment also occurs elsewhere in the chunk, perhaps affirmed
        if NEGATION.search(fragment) or HEDGE.search(fragment):
            continue
        return Edit(end_period(upper_first(fragment)), (fragment,))
    return None


_VERB_STOP = {
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "seen",
    "noted",
    "identified",
    "present",
    "appreciated",
    "found",
    "observed",
    "visualized",
    "detected",
    "elicited",
    "palpated",
    "reported",
    "given",
    "when",
    "while",
    "if",
    "as",
    "at",
    "on",
    "in",
    "during",
    "after",
    "before",
    "per",
    "from",
    "for",
    "to",
    "by",
}


def _fragment_tokens(tokens: list[str]) -> list[str]:
    out = []
    for token in tokens[:5]:
        if token.lower() in _VERB_STOP or re.fullmatch(r"\w{3,}(?:ed|en|ing)", token.lower()) and out:
            break
        if token.lower() in {"and", "or", "but", "nor", "which", "who", "that", "since", "because", "with"} and out:
            if token.lower() in {"and", "or"} and len(out) < 3:
                out.append(token)
                continue
            break
        out.append(token)
    while out and out[-1].lower() in _STOP_END:
        out.pop()
    if out and out[0].lower() in _BAD_START:
        return []
    return out


def _span_of(text: str, tokens: list[str]) -> int:
    position = 0
    for token in tokens:
        position = text.index(token, position) + len(token)
    return position


# --------------------------------------------------------------------------------------
# time_unit_changed
# --------------------------------------------------------------------------------------

_TIME_SWAP = {
    "minute": ["hour"],
    "hour": ["day", "minute"],
    "day": ["week", "hour"],
    "week": ["month", "day"],
    "month": ["year", "week"],
    "year": ["month"],
}
_AMOUNT = r"\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|several|a couple of"
TIME_UNIT = re.compile(
    rf"(?<![\w/.])(?<!every )(?<!q)(?:{_AMOUNT})(?P<sep>\s*-?\s*)(?P<unit>minute|hour|day|week|month|year)"
    r"(?P<s>s?)\b(?!\s*-?\s*old)(?!-)",
    re.I,
)


def time_unit_changed(sentence: str, rng: random.Random) -> Edit | None:
    matches = [
        m
        for m in TIME_UNIT.finditer(sentence)
        if not re.match(r"\s*(?:old|of age|pack)", sentence[m.end() :], re.I)
        and not re.search(r"pack[- ]$", sentence[: m.start()], re.I)
    ]
    if not matches:
        return None
    match = rng.choice(matches)
    unit = match.group("unit")
    new = rng.choice(_TIME_SWAP[unit.lower()])
    new = case_like(unit, new) + (match.group("s").upper() if unit.isupper() else match.group("s"))
    start, end = match.start("unit"), match.end("s")
    return Edit(sentence[:start] + new + sentence[end:])


# --------------------------------------------------------------------------------------
# date_changed
# --------------------------------------------------------------------------------------

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_ABBR = {m[:3].lower(): i + 1 for i, m in enumerate(_MONTHS)} | {"sept": 9}
NUMERIC_DATE = re.compile(
    r"(?<![\w/.-])(?P<m>0?[1-9]|1[0-2])/(?P<d>0?[1-9]|[12]\d|3[01])(?:/(?P<y>(?:19|20)?\d{2}))?"
    r"(?![\w/]|\.\d)"
)
ISO_DATE = re.compile(r"(?<![\w-])(?P<y>(?:19|20)\d{2})-(?P<m>0[1-9]|1[0-2])-(?P<d>[0-2]\d|3[01])(?![\w-])")
NAMED_DATE = re.compile(
    r"\b(?P<mon>January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?\s+(?P<d>[0-3]?\d)"
    r"(?P<th>st|nd|rd|th)?(?P<y>,?\s+(?:19|20)\d{2})?\b"
)
_DATE_CONTEXT = re.compile(
    r"(?:\b(?:on|since|from|dated|until|through|of|by|date|dos|started|changed|admitted|"
    r"discharged|seen|placed|performed|done|to|and|in|before|after|at)\s*:?\s*$|^\s*$|[;:,(]\s*$)",
    re.I,
)
_NOT_DATE_AFTER = re.compile(
    r"\s*(?:strength|murmur|motor|power|reflex|sensation|systolic|holosystolic|tabs?|"
    r"tablets?|of|x|mm|cm|mg|ml|units?|%|in\b|with\b)",
    re.I,
)


def _shift(day: date, rng: random.Random) -> date:
    if rng.random() < 0.6:
        return day + timedelta(days=rng.choice([-9, -7, -5, -3, -2, -1, 1, 2, 3, 5, 7, 9]))
    month = day.month + rng.choice([-2, -1, 1, 2])
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, min(day.day, 28))


def _pad(old: str, value: int) -> str:
    return f"{value:02d}" if len(old) == 2 else str(value)


def _numeric(match: re.Match, sentence: str, rng: random.Random) -> str | None:
    if not match.group("y"):  # "5/5 strength", "2/6 murmur", "1/2 tab" are no dates
        if not _DATE_CONTEXT.search(sentence[: match.start()]) or _NOT_DATE_AFTER.match(sentence[match.end() :]):
            return None
    year = int(match.group("y") or 2000)
    year = year + 2000 if year < 100 else year
    try:
        old = date(year, int(match.group("m")), int(match.group("d")))
    except ValueError:
        return None
    new = _shift(old, rng)
    if match.group("y") is None and new.year != old.year:
        new = old + timedelta(days=1 if old.day < 28 else -1)
    text = f"{_pad(match.group('m'), new.month)}/{_pad(match.group('d'), new.day)}"
    if match.group("y"):
        text += "/" + (str(new.year) if len(match.group("y")) == 4 else f"{new.year % 100:02d}")
    return text


def date_changed(sentence: str, rng: random.Random) -> Edit | None:
    options = []
    for match in NUMERIC_DATE.finditer(sentence):
        new = _numeric(match, sentence, rng)
        if new:
            options.append((match, new))
    for match in ISO_DATE.finditer(sentence):
        try:
            new = _shift(date(int(match.group("y")), int(match.group("m")), int(match.group("d"))), rng)
        except ValueError:
            continue
        options.append((match, new.isoformat()))
    for match in NAMED_DATE.finditer(sentence):
        month = _MONTH_ABBR[
            match.group("mon")[:4].lower() if match.group("mon").lower() == "sept" else match.group("mon")[:3].lower()
        ]
        try:
            old = date(2000, month, int(match.group("d")))
        except ValueError:
            continue
        new = _shift(old, rng)
        if new.year != old.year:
            new = old + timedelta(days=2 if old.day < 27 else -2)
        name = _MONTHS[new.month - 1]
        if match.group("mon").lower() not in {m.lower() for m in _MONTHS}:
            name = name[:3]  # "Nov" stays an abbreviation
        text = sentence[match.start() : match.end()]
        text = text.replace(match.group("mon"), case_like(match.group("mon"), name), 1)
        text = re.sub(r"(?<=\s)" + match.group("d") + r"\b", str(new.day), text, count=1)
        options.append((match, text))
    if not options:
        return None
    match, new = rng.choice(options)
    if new == match.group(0):
        return None
    return Edit(sentence[: match.start()] + new + sentence[match.end() :])


# --------------------------------------------------------------------------------------
# negation_added
# --------------------------------------------------------------------------------------

NEGATE = rules(
    [
        (
            r"\b(?:reports|reported|complains of|complained of|c/o|endorses|endorsed|admits to|notes|noted having)\b",
            ["denies"],
        ),
        (r"\bpositive for\b", ["negative for"]),
        (
            r"\b(?:is|was|are|were)\b(?= (?:\w+ly )?(?:tender|distended|present|positive|elevated|tachycardic|febrile|"
            r"swollen|erythematous|edematous|palpable|seen|noted|found|identified|visualized|consistent|"
            r"able|tolerating|tolerated|admitted|started|given|intubated|placed|performed|done|alert|oriented|"
            r"responsive|painful|enlarged|abnormal|normal|clear|stable|improved|irregular|regular|soft|warm|"
            r"intact|symmetric|reactive|equal|ambulating)\b)",
            lambda m, r: m.group(0) + " not",
        ),
        (r"\b(?:presents|presented|presenting|admitted) with\b", lambda m, r: m.group(0)[:-4] + "without"),
        (r"\bhas (?:a|an)\b(?= (?:history|\w+ history))", ["has no"]),
        (r"\bhas had\b", ["has not had"]),
        (r"(?<!as )(?<!when )(?<!if )(?<!having )\btolerated\b", ["did not tolerate"]),
        (r"\bhaving tolerated\b", ["having not tolerated"]),
        (r"\btolerating\b", ["not tolerating"]),
        (
            r"\b(?:demonstrates|demonstrated|shows|showed|revealed|reveals)\b",
            lambda m, r: {
                "demonstrates": "does not demonstrate",
                "demonstrated": "did not demonstrate",
                "shows": "does not show",
                "showed": "did not show",
                "revealed": "did not reveal",
                "reveals": "does not reveal",
            }[m.group(0).lower()],
        ),
        (r"\b(?:there is|there was|there are|there were)\b", lambda m, r: m.group(0) + " no"),
    ]
)


def negation_added(sentence: str, rng: random.Random) -> Edit | None:
    if NEGATION.search(sentence):
        return None
    changed = rule_apply(sentence, NEGATE, rng)
    return Edit(changed) if changed else None


# --------------------------------------------------------------------------------------
# drug_class_or_brand_swap
# --------------------------------------------------------------------------------------

# Another drug of the same class, or the brand name of a different drug.
DRUG_SWAPS = {
    "metoprolol": ["atenolol", "carvedilol"],
    "atenolol": ["metoprolol"],
    "carvedilol": ["metoprolol"],
    "propranolol": ["metoprolol"],
    "labetalol": ["metoprolol"],
    "lopressor": ["Tenormin"],
    "toprol": ["Coreg"],
    "lisinopril": ["losartan", "enalapril"],
    "enalapril": ["lisinopril"],
    "losartan": ["lisinopril", "valsartan"],
    "valsartan": ["losartan"],
    "captopril": ["enalapril"],
    "benazepril": ["lisinopril"],
    "furosemide": ["bumetanide", "torsemide"],
    "lasix": ["Bumex"],
    "bumetanide": ["furosemide"],
    "bumex": ["Lasix"],
    "torsemide": ["furosemide"],
    "hydrochlorothiazide": ["chlorthalidone"],
    "hctz": ["chlorthalidone"],
    "spironolactone": ["eplerenone"],
    "heparin": ["enoxaparin"],
    "enoxaparin": ["heparin", "dalteparin"],
    "lovenox": ["Fragmin"],
    "warfarin": ["apixaban", "rivaroxaban"],
    "coumadin": ["Eliquis", "Xarelto"],
    "apixaban": ["rivaroxaban"],
    "eliquis": ["Xarelto"],
    "rivaroxaban": ["apixaban"],
    "xarelto": ["Eliquis"],
    "pantoprazole": ["famotidine", "omeprazole"],
    "protonix": ["Pepcid"],
    "omeprazole": ["pantoprazole"],
    "prilosec": ["Nexium"],
    "nexium": ["Prilosec"],
    "esomeprazole": ["omeprazole"],
    "famotidine": ["ranitidine"],
    "pepcid": ["Zantac"],
    "ranitidine": ["famotidine"],
    "zantac": ["Pepcid"],
    "atorvastatin": ["simvastatin", "rosuvastatin"],
    "lipitor": ["Zocor"],
    "simvastatin": ["atorvastatin"],
    "zocor": ["Crestor"],
    "pravastatin": ["atorvastatin"],
    "rosuvastatin": ["atorvastatin"],
    "crestor": ["Lipitor"],
    "amlodipine": ["nifedipine"],
    "norvasc": ["Procardia"],
    "nifedipine": ["amlodipine"],
    "diltiazem": ["verapamil"],
    "cardizem": ["Calan"],
    "verapamil": ["diltiazem"],
    "metformin": ["glipizide"],
    "glucophage": ["Glucotrol"],
    "glipizide": ["glyburide"],
    "glyburide": ["glipizide"],
    "lantus": ["Levemir"],
    "glargine": ["detemir"],
    "humalog": ["Novolog"],
    "lispro": ["aspart"],
    "acetaminophen": ["ibuprofen"],
    "tylenol": ["Motrin"],
    "ibuprofen": ["naproxen"],
    "motrin": ["Aleve"],
    "advil": ["Aleve"],
    "naproxen": ["ibuprofen"],
    "ketorolac": ["ibuprofen"],
    "toradol": ["Motrin"],
    "morphine": ["hydromorphone"],
    "hydromorphone": ["morphine"],
    "dilaudid": ["Demerol"],
    "oxycodone": ["hydrocodone"],
    "hydrocodone": ["oxycodone"],
    "percocet": ["Vicodin"],
    "vicodin": ["Percocet"],
    "fentanyl": ["morphine"],
    "tramadol": ["tapentadol"],
    "ondansetron": ["metoclopramide", "prochlorperazine"],
    "zofran": ["Reglan"],
    "reglan": ["Zofran"],
    "promethazine": ["ondansetron"],
    "phenergan": ["Zofran"],
    "compazine": ["Phenergan"],
    "lorazepam": ["diazepam"],
    "ativan": ["Valium"],
    "alprazolam": ["lorazepam"],
    "xanax": ["Ativan"],
    "valium": ["Ativan"],
    "diazepam": ["lorazepam"],
    "midazolam": ["lorazepam"],
    "clonazepam": ["alprazolam"],
    "ceftriaxone": ["cefazolin", "cefepime"],
    "rocephin": ["Ancef"],
    "cefazolin": ["ceftriaxone"],
    "ancef": ["Rocephin"],
    "cefepime": ["ceftriaxone"],
    "vancomycin": ["linezolid"],
    "zosyn": ["Unasyn"],
    "unasyn": ["Zosyn"],
    "levofloxacin": ["ciprofloxacin"],
    "levaquin": ["Cipro"],
    "ciprofloxacin": ["levofloxacin"],
    "cipro": ["Levaquin"],
    "azithromycin": ["clarithromycin"],
    "zithromax": ["Biaxin"],
    "amoxicillin": ["ampicillin"],
    "augmentin": ["Keflex"],
    "keflex": ["Augmentin"],
    "cephalexin": ["cefadroxil"],
    "bactrim": ["Macrobid"],
    "doxycycline": ["minocycline"],
    "clindamycin": ["linezolid"],
    "metronidazole": ["vancomycin"],
    "flagyl": ["Cipro"],
    "penicillin": ["amoxicillin"],
    "prednisone": ["dexamethasone", "methylprednisolone"],
    "solu-medrol": ["Decadron"],
    "decadron": ["Solu-Medrol"],
    "dexamethasone": ["prednisone"],
    "methylprednisolone": ["dexamethasone"],
    "hydrocortisone": ["prednisone"],
    "levothyroxine": ["liothyronine"],
    "synthroid": ["Cytomel"],
    "aspirin": ["clopidogrel"],
    "plavix": ["Effient"],
    "clopidogrel": ["ticagrelor", "prasugrel"],
    "albuterol": ["levalbuterol"],
    "ipratropium": ["tiotropium"],
    "advair": ["Symbicort"],
    "spiriva": ["Atrovent"],
    "sertraline": ["fluoxetine"],
    "zoloft": ["Prozac"],
    "prozac": ["Paxil"],
    "fluoxetine": ["sertraline"],
    "citalopram": ["escitalopram"],
    "celexa": ["Lexapro"],
    "lexapro": ["Celexa"],
    "trazodone": ["mirtazapine"],
    "paroxetine": ["sertraline"],
    "paxil": ["Zoloft"],
    "gabapentin": ["pregabalin"],
    "neurontin": ["Lyrica"],
    "lyrica": ["Neurontin"],
    "levetiracetam": ["phenytoin"],
    "keppra": ["Dilantin"],
    "dilantin": ["Tegretol"],
    "phenytoin": ["levetiracetam"],
    "haloperidol": ["quetiapine"],
    "haldol": ["Seroquel"],
    "seroquel": ["Zyprexa"],
    "quetiapine": ["olanzapine"],
    "digoxin": ["amiodarone"],
    "amiodarone": ["sotalol"],
    "nitroglycerin": ["isosorbide mononitrate"],
    "hydralazine": ["labetalol"],
    "norepinephrine": ["phenylephrine"],
    "levophed": ["Neo-Synephrine"],
    "dopamine": ["dobutamine"],
    "dobutamine": ["milrinone"],
    "propofol": ["midazolam"],
    "insulin": ["metformin"],
    "potassium chloride": ["potassium phosphate"],
    "kayexalate": ["lactulose"],
    "docusate": ["senna"],
    "colace": ["Senokot"],
    "senna": ["docusate"],
    "lactulose": ["polyethylene glycol"],
    "diphenhydramine": ["hydroxyzine"],
    "benadryl": ["Atarax"],
    "allopurinol": ["febuxostat"],
}
WEIGHT_UNITS = rules(
    [
        (r"(?<=\d )(?:kg|kgs)\b|(?<=\d)(?:kg|kgs)\b", ["lb"]),
        (r"(?<=\d )(?:lb|lbs)\b|(?<=\d)(?:lb|lbs)\b", ["kg"]),
        (r"(?<=\d )pounds\b", ["kilograms"]),
        (r"(?<=\d )kilograms\b", ["pounds"]),
    ]
)
DRUG_SWAP_RULES = rules([(rf"\b{re.escape(old)}\b", new) for old, new in DRUG_SWAPS.items()])


def drug_class_or_brand_swap(sentence: str, rng: random.Random) -> Edit | None:
    table = DRUG_SWAP_RULES if rng.random() < 0.85 else WEIGHT_UNITS + DRUG_SWAP_RULES
    changed = rule_apply(sentence, table, rng) or rule_apply(sentence, WEIGHT_UNITS, rng)
    return Edit(changed) if changed else None


# --------------------------------------------------------------------------------------
# fact_added
# --------------------------------------------------------------------------------------

# (extra clause, words that must not already be in the chunk for the fact to be new)
EXTRA_FACTS = [
    ("; the patient was started on warfarin 5 mg daily", "warfarin|coumadin"),
    ("; temperature was 39.2 C", "fever|febrile|temperature|39"),
    ("; creatinine was 2.4", "creatinine"),
    ("; the course was complicated by a pulmonary embolism", "embol"),
    ("; blood cultures grew MRSA", "mrsa|culture"),
    ("; the patient was transferred to the ICU", "icu|intensive"),
    ("; potassium was 5.9", "potassium"),
    ("; this followed a fall at home", "fall|fell"),
    ("; the patient was intubated for hypoxic respiratory failure", "intubat"),
    ("; new atrial fibrillation was noted", "fibrillation|afib|a-fib"),
    ("; troponin was 0.8", "troponin"),
    ("; insulin was held", "insulin"),
    ("; hemoglobin was 6.8 and 2 units of blood were transfused", "hemoglobin|transfus"),
    ("; the patient is allergic to penicillin", "allerg|penicillin"),
    ("; there was 3+ pitting edema of both legs", "edema"),
    ("; lactate was 4.6", "lactate|lactic"),
    ("; symptoms had been present for 3 weeks", "week"),
    ("; the patient was discharged on amoxicillin", "amoxicillin"),
]
# Phrases that fit only some sentences: (extra, the sentence must match, the chunk must not match)
FITTED_FACTS = [
    (
        " on the left",
        r"\b(?:leg|arm|knee|hip|shoulder|foot|ankle|hand|wrist|elbow|lung|kidney|breast|eye|ear|"
        r"flank|groin|chest wall)\b",
        r"\b(?:left|right|bilateral)",
    ),
    (
        " with a fever of 39.2 C",
        r"^(?:the patient|patient|pt|he|she)\b.*\b(?:presented|presents|admitted|"
        r"was seen|came)\b",
        r"fever|febrile|39",
    ),
]


def fact_added(sentence: str, chunk_text: str, rng: random.Random) -> Edit | None:
    body = strip_end(sentence)
    if len(body.split()) < 4:
        return None
    fitted = [
        extra
        for extra, fits, taken in FITTED_FACTS
        if re.search(fits, body, re.I) and not re.search(taken, chunk_text, re.I)
    ]
    options = (
        fitted
        if fitted and rng.random() < 0.5
        else [extra for extra, taken in EXTRA_FACTS if not re.search(taken, chunk_text, re.I)]
    )
    if not options:
        return None
    extra = rng.choice(options)
    if body.isupper():
        extra = extra.upper()
    return Edit(body + extra + ".")


# --------------------------------------------------------------------------------------
# merged_altered: two adjacent sentences in one claim, one fact of one of them changed
# --------------------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]*\d)")


def number_changed(sentence: str, rng: random.Random) -> Edit | None:
    numbers = _NUMBER.findall(sentence)
    if not numbers:
        return None
    old = rng.choice(numbers)
    new = str(int(float(old)) * 2 + 1) if "." not in old else f"{float(old) * 2 + 0.3:.1f}"
    return Edit(re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w.]*\d)", new, sentence, count=1))


def negation_removed(sentence: str, rng: random.Random) -> Edit | None:
    for pattern, replacement in (
        (r"\b[Dd]enies\b", "reports"),
        (r"\b[Nn]o\s+(?!\d)", ""),
        (r"\bnot\s+", ""),
        (r"\b[Nn]egative\b", "positive"),
        (r"\bwithout\b", "with"),
    ):
        if re.search(pattern, sentence):
            return Edit(re.sub(pattern, replacement, sentence, count=1))
    return None


def laterality_swapped(sentence: str, rng: random.Random) -> Edit | None:
    swap = {"left": "right", "right": "left"}
    match = re.search(r"\b(left|right)\b", sentence, re.I)
    if not match:
        return None
    new = case_like(match.group(0), swap[match.group(0).lower()])
    return Edit(sentence[: match.start()] + new + sentence[match.end() :])


ALTERATIONS = [number_changed, drug_class_or_brand_swap, negation_added, negation_removed, laterality_swapped]


def merge(first: str, second: str) -> str:
    first, second = squash(first), squash(second)
    second = second[LIST_MARKER.match(second).end() :] or second  # "2. " goes, "Pending:" stays
    joiner = "; " if not first.rstrip().endswith(":") else " "
    return strip_end(first) + joiner + (second[:1].lower() + second[1:] if second[1:2].islower() else second)


def merged_altered(first: str, second: str, rng: random.Random) -> Edit | None:
    alterations = ALTERATIONS[:]
    rng.shuffle(alterations)
    for alteration in alterations:
        target = rng.choice([0, 1])
        for which in (target, 1 - target):
            edit = alteration((first, second)[which], rng)
            if edit and squash(edit.claim) != squash((first, second)[which]):
                parts = [first, second]
                parts[which] = edit.claim
                if squash(merge(*parts)) != squash(merge(first, second)):  # a change in a dropped label is none
                    return Edit(merge(*parts), (first, second))
    return None
