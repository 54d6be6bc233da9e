"""The checkable facts of a sentence, slot by slot.

A claim keeps its evidence's facts when every slot of the claim is found in the evidence with
the same value: numbers (digits or words: "three-vessel" = "3-vessel"), quantities with their
unit (cc = mL, mcg = ug; lb is not kg), frequency (BID = twice daily = q12h), as-needed, route
(PO = by mouth), status (started, stopped, held, restarted, continued, increased, decreased)
with its tense (done, or only planned), direction (improved/worsened, rising/falling), dates,
durations with their unit (3 days is not 3 weeks), lab name to value pairs, sides, and drugs
by generic name. These are tables of clinical vocabulary, compared as data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .drugs import drug_mentions, drugs_in

_NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}
# "four times daily" is a frequency, not the number 4
_WORD_NUMBER = re.compile(r"\b(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b", re.I)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?![\d])")

# Units: surface form -> canonical. Synonyms are one unit; different units never are.
_UNITS = {
    "mcg": "mcg",
    "ug": "mcg",
    "µg": "mcg",
    "microgram": "mcg",
    "micrograms": "mcg",
    "mg": "mg",
    "milligram": "mg",
    "milligrams": "mg",
    "g": "g",
    "gm": "g",
    "gms": "g",
    "gram": "g",
    "grams": "g",
    "kg": "kg",
    "kgs": "kg",
    "kilogram": "kg",
    "kilograms": "kg",
    "lb": "lb",
    "lbs": "lb",
    "pound": "lb",
    "pounds": "lb",
    "ng": "ng",
    "ml": "ml",
    "mls": "ml",
    "cc": "ml",
    "ccs": "ml",
    "milliliter": "ml",
    "milliliters": "ml",
    "l": "l",
    "liter": "l",
    "liters": "l",
    "litre": "l",
    "litres": "l",
    "meq": "meq",
    "mmol": "mmol",
    "unit": "units",
    "units": "units",
    "u": "units",
    "iu": "units",
    "%": "%",
    "percent": "%",
    "mmhg": "mmhg",
    "mm hg": "mmhg",
    "bpm": "bpm",
    "cm": "cm",
    "mm": "mm",
    "in": "in",
    "inch": "in",
    "inches": "in",
    "centimeter": "cm",
    "centimeters": "cm",
    "millimeter": "mm",
    "millimeters": "mm",
    "nanogram": "ng",
    "nanograms": "ng",
    "mg/dl": "mg/dl",
    "g/dl": "g/dl",
    "mmol/l": "mmol/l",
    "meq/l": "meq/l",
    "ng/ml": "ng/ml",
    "mcg/min": "mcg/min",
    "mg/hr": "mg/h",
    "mg/h": "mg/h",
    "units/hr": "units/h",
    "units/h": "units/h",
    "ml/hr": "ml/h",
    "ml/h": "ml/h",
    "cc/hr": "ml/h",
    "l/min": "l/min",
    "lpm": "l/min",
    "mcg/kg/min": "mcg/kg/min",
    "mg/kg": "mg/kg",
    "c": "c",
    "f": "f",
}
_UNIT_ALTERNATION = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_QUANTITY = re.compile(rf"(?<![\w.])(\d+(?:\.\d+)?)\s?({_UNIT_ALTERNATION})(?![A-Za-z])", re.I)

# Frequencies: pattern -> canonical.
_FREQUENCIES = (
    (
        r"\bq\.?\s?d\.?(?![a-z])|\bq\s?24\s?h(?:rs?|ours?)?\b|\bonce (?:a|per) day\b|\bonce daily\b|"
        r"(?<!twice )(?<!times )\bdaily\b|"
        r"\bevery day\b|\bevery 24 hours\b|\bqday\b|\bonce a day\b|\bone time (?:a|per) day\b",
        "daily",
    ),
    (
        r"\bb\.?i\.?d\.?(?![a-z])|\btwice (?:a |per )?day\b|\btwice daily\b|\bq\s?12\s?h(?:rs?|ours?)?\b|"
        r"\bevery 12 hours\b|\b(?:2|two) times (?:a|per) day\b|\b(?:2|two) times daily\b",
        "twice daily",
    ),
    (
        r"\bt\.?i\.?d\.?(?![a-z])|\bthree times (?:a |per )?day\b|\bthree times daily\b|\bq\s?8\s?h(?:rs?|ours?)?\b|"
        r"\bevery 8 hours\b|\b3 times (?:a|per) day\b|\b3 times daily\b",
        "three times daily",
    ),
    (
        r"\bq\.?i\.?d\.?(?![a-z])|\bfour times (?:a |per )?day\b|\bfour times daily\b|\bq\s?6\s?h(?:rs?|ours?)?\b|"
        r"\bevery 6 hours\b|\b4 times (?:a|per) day\b|\b4 times daily\b",
        "four times daily",
    ),
    (r"\bq\.?\s?h\.?\s?s\.?(?![a-z])|\bat bedtime\b|\bnightly\b|\bat night\b|\bevery night\b|\bhs\b", "at bedtime"),
    (r"\bq\.?\s?a\.?\s?m\.?(?![a-z])|\bevery morning\b|\bin the morning\b", "every morning"),
    (r"\bweekly\b|\bonce (?:a|per) week\b|\bevery week\b|\bq\s?week\b|\bqwk\b", "weekly"),
    (r"\bmonthly\b|\bonce (?:a|per) month\b|\bevery month\b", "monthly"),
    (r"\bevery other day\b|\bq\.?o\.?d\.?(?![a-z])|\bq\s?48\s?h(?:rs?|ours?)?\b", "every other day"),
    (r"\bcontinuous(?:ly)?\b|\bdrip\b|\binfusion\b|\bgtt\b", "continuous"),
)
_EVERY_N = re.compile(
    r"\bq\.?\s?(\d{1,2})\s?(?:-\s?\d{1,2}\s?)?h(?:rs?|ours?)?\b"
    r"|\bevery (\d{1,2}|[a-z]+)\s?(?:to \d+ )?hours?\b",
    re.I,
)
_FREQUENCY_PATTERNS = tuple((re.compile(p, re.I), name) for p, name in _FREQUENCIES)
_AS_NEEDED = re.compile(r"\bp\.?r\.?n\.?(?![a-z])|\bas needed\b|\bas required\b|\bwhen needed\b", re.I)

_ROUTES = (
    (r"\bp\.?o\.?(?![a-z])|\bby mouth\b|\borally\b|\boral\b|\bper os\b", "oral"),
    (r"\bi\.?v\.?(?![a-z])|\bintravenous(?:ly)?\b|\bivp\b|\bivpb\b", "intravenous"),
    (r"\bs\.?c\.?(?![a-z])|\bsubq\b|\bsq\b|\bsub-?cutaneous(?:ly)?\b|\bsub ?q\b", "subcutaneous"),
    (r"\bi\.?m\.?(?![a-z])|\bintramuscular(?:ly)?\b", "intramuscular"),
    (r"\binhaled\b|\binhalation\b|\bnebuli[sz]ed\b|\bnebs?\b|\bmdi\b|\binh\b", "inhaled"),
    (r"\bp\.?r\.?(?![a-z])(?!n)|\brectal(?:ly)?\b|\bper rectum\b", "rectal"),
    (r"\bs\.?l\.?(?![a-z])|\bsublingual(?:ly)?\b", "sublingual"),
    (r"\btopical(?:ly)?\b", "topical"),
    (r"\btransdermal\b|\bpatch\b", "transdermal"),
    (r"\bper (?:ng|og|peg|g-?tube|tube)\b|\bvia (?:ng|og|peg|g-?tube)\b", "enteral tube"),
)
_ROUTE_PATTERNS = tuple((re.compile(p, re.I), name) for p, name in _ROUTES)

# Status of a treatment: word -> (status, tense). Base forms are a plan unless they are an order.
_STATUS_WORDS = {
    "started": ("start", "done"),
    "initiated": ("start", "done"),
    "begun": ("start", "done"),
    "began": ("start", "done"),
    "commenced": ("start", "done"),
    "starting": ("start", "now"),
    "start": ("start", "plan"),
    "initiate": ("start", "plan"),
    "begin": ("start", "plan"),
    "stopped": ("stop", "done"),
    "discontinued": ("stop", "done"),
    "ceased": ("stop", "done"),
    "d/c'd": ("stop", "done"),
    "dc'd": ("stop", "done"),
    "dced": ("stop", "done"),
    "d/ced": ("stop", "done"),
    "stop": ("stop", "plan"),
    "discontinue": ("stop", "plan"),
    "stopping": ("stop", "now"),
    "held": ("hold", "done"),
    "hold": ("hold", "plan"),
    "holding": ("hold", "now"),
    "restarted": ("restart", "done"),
    "resumed": ("restart", "done"),
    "reinitiated": ("restart", "done"),
    "restart": ("restart", "plan"),
    "resume": ("restart", "plan"),
    "restarting": ("restart", "now"),
    "continued": ("continue", "done"),
    "continue": ("continue", "plan"),
    "continues": ("continue", "now"),
    "continuing": ("continue", "now"),
    "maintained": ("continue", "done"),
    "increased": ("increase", "done"),
    "increase": ("increase", "plan"),
    "uptitrated": ("increase", "done"),
    "decreased": ("decrease", "done"),
    "decrease": ("decrease", "plan"),
    "reduced": ("decrease", "done"),
    "tapered": ("decrease", "done"),
    "weaned": ("decrease", "done"),
    "lowered": ("decrease", "done"),
    "completed": ("complete", "done"),
    "finished": ("complete", "done"),
    "switched": ("switch", "done"),
    "changed": ("switch", "done"),
    "transitioned": ("switch", "done"),
    "obtained": ("obtain", "done"),
    "performed": ("obtain", "done"),
    "done": ("obtain", "done"),
    "underwent": ("obtain", "done"),
    "obtain": ("obtain", "plan"),
    "perform": ("obtain", "plan"),
    "placed": ("place", "done"),
    "place": ("place", "plan"),
    "removed": ("remove", "done"),
    "remove": ("remove", "plan"),
    "given": ("give", "done"),
    "give": ("give", "plan"),
    "administered": ("give", "done"),
    "received": ("give", "done"),
}
# Statuses that may stand for one another in a faithful paraphrase ("started" an order that
# "continues"; "given" what was "started").
_STATUS_SYNONYMS = {
    "give": {"start", "continue"},
    "start": {"give"},
    "continue": {"give"},
    "obtain": {"place", "give"},
    "place": {"obtain"},
}
_PLAN_MARKERS = re.compile(
    r"\b(will|would|plan(?:s|ned)?(?: is)? to|plan for|recommend(?:ed|s)?(?: to)?|consider(?:ing)?|should|"
    r"may|might|to be|needs? to|going to|if|unless|pending|awaiting|scheduled (?:for|to)|to)\s+(?:\w+\s+){0,2}$",
    re.I,
)
_DIRECTIONS = {
    "improved": "better",
    "improving": "better",
    "improvement": "better",
    "better": "better",
    "resolving": "better",
    "resolved": "better",
    "decreasing": "down",
    "decreased": "down",
    "falling": "down",
    "fell": "down",
    "down": "down",
    "downtrending": "down",
    "lower": "down",
    "reduced": "down",
    "dropped": "down",
    "worsened": "worse",
    "worsening": "worse",
    "worse": "worse",
    "deteriorated": "worse",
    "deteriorating": "worse",
    "progressed": "worse",
    "increasing": "up",
    "increased": "up",
    "rising": "up",
    "rose": "up",
    "up": "up",
    "uptrending": "up",
    "higher": "up",
    "elevated": "up",
    "trending up": "up",
    "stable": "same",
    "unchanged": "same",
    "stationary": "same",
}
# "right lower extremity", "upper lobe": place, not direction
_ANATOMY = re.compile(
    r" (?:extremit|lobe|quadrant|back|leg|limb|abdom|lip|lid|eyelid|gi|pole|esophag|airway|"
    r"respiratory|urinary|motor|arm|chest|sternal|border|body|half|third|field|zone|pole)"
)
_DIRECTION_WORD = re.compile(r"\b(" + "|".join(sorted(_DIRECTIONS, key=len, reverse=True)) + r")\b", re.I)

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        "january february march april may june july august september october november december".split()
    )
}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_DATE_NUMERIC = re.compile(
    r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?![\d/])"
    r"|(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)"
)
_DATE_WORDS = re.compile(
    r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b",
    re.I,
)
_TIME_UNITS = {
    "second": "second",
    "sec": "second",
    "secs": "second",
    "seconds": "second",
    "minute": "minute",
    "minutes": "minute",
    "min": "minute",
    "mins": "minute",
    "hour": "hour",
    "hours": "hour",
    "hr": "hour",
    "hrs": "hour",
    "h": "hour",
    "day": "day",
    "days": "day",
    "d": "day",
    "week": "week",
    "weeks": "week",
    "wk": "week",
    "wks": "week",
    "month": "month",
    "months": "month",
    "mo": "month",
    "mos": "month",
    "year": "year",
    "years": "year",
    "yr": "year",
    "yrs": "year",
    "y": "year",
}
_DURATION = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s?(?:-|to)?\s?(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|"
    r"mos?|years?|yrs?)\b",
    re.I,
)
_SIDE = re.compile(r"\b(left|right|bilateral|bilaterally|both|lt|rt|rle|rue|rlq|ruq|lle|lue|llq|luq)\b", re.I)
_SIDES = {
    "left": "left",
    "lt": "left",
    "right": "right",
    "rt": "right",
    "bilateral": "bilateral",
    "bilaterally": "bilateral",
    "both": "bilateral",
    **dict.fromkeys(("rle", "rue", "rlq", "ruq"), "right"),
    **dict.fromkeys(("lle", "lue", "llq", "luq"), "left"),
}
# A lab or vital name right before its value: "Heart rate: 72", "potassium 4.1", "HR 88".
_PAIR = re.compile(
    r"([A-Za-z][A-Za-z0-9 ]{0,24}?[A-Za-z0-9])\s*(?::|=|\bof\b|\bwas\b|\bis\b|\bat\b)?\s*"
    r"(-?\d+(?:\.\d+)?)(?![\d/])"
)
_PAIR_SKIP = frozenset("the a an and or with on in of at to was is were from by for x per about than".split())


@dataclass(frozen=True)
class Facts:
    numbers: frozenset[str]
    quantities: frozenset[tuple[str, str]]  # (number, canonical unit)
    frequencies: frozenset[str]
    as_needed: bool
    routes: frozenset[str]
    statuses: frozenset[tuple[str, str]]  # (status, tense: done|now|plan)
    directions: frozenset[str]
    dates: frozenset[tuple[int, int, int]]  # (year or 0, month, day)
    months: frozenset[int]
    durations: frozenset[tuple[str, str]]  # (number, time unit)
    sides: tuple[str, ...]  # in order, with repeats
    pairs: frozenset[tuple[str, str]]  # (lab/vital name, value)
    regimens: frozenset[tuple[str, str, str]]  # (drug, "dose" | "frequency", value) per drug named
    drugs: frozenset[str]


def _number_text(value: str) -> str:
    value = value.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".") or "0"
    return value


def words_to_digits(text: str) -> str:
    """Number words as digits ("three-vessel" -> "3-vessel"), so both spellings compare equal."""
    return _WORD_NUMBER.sub(lambda m: str(_NUMBER_WORDS[m.group(1).lower()]), text)


def _statuses(text: str) -> frozenset[tuple[str, str]]:
    found = set()
    for match in re.finditer(r"[A-Za-z][A-Za-z/']*", text):
        entry = _STATUS_WORDS.get(match.group(0).lower())
        if entry is None:
            continue
        status, tense = entry
        before = text[max(0, match.start() - 40) : match.start()]
        if _PLAN_MARKERS.search(before):
            tense = "plan"
        elif tense == "plan":
            tense = "now"  # an order in the imperative ("Start heparin") is a current instruction
        found.add((status, tense))
    return frozenset(found)


def _dates(text: str) -> tuple[frozenset[tuple[int, int, int]], frozenset[int]]:
    dates, months = set(), set()
    for m in _DATE_NUMERIC.finditer(text):
        if m.group(4):
            year, month, day = int(m.group(4)), int(m.group(5)), int(m.group(6))
        else:
            month, day = int(m.group(1)), int(m.group(2))
            year = int(m.group(3) or 0)
            if 0 < year < 100:
                year += 2000 if year < 50 else 1900
        if 1 <= month <= 12 and 1 <= day <= 31:
            dates.add((year, month, day))
    for m in _DATE_WORDS.finditer(text):
        month = _MONTHS.get(m.group(1).lower().rstrip("."), 0) or _MONTHS.get(m.group(1).lower()[:3], 0)
        if month:
            dates.add((int(m.group(3) or 0), month, int(m.group(2))))
    for word in re.findall(r"[A-Za-z]+", text):
        word_month = _MONTHS.get(word.lower())
        if (
            word_month
            and (
                len(word) > 3
                or word.lower() in ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
            )
            and word.lower() != "may"
        ):
            months.add(word_month)
    return frozenset(dates), frozenset(months)


def _pairs(text: str) -> frozenset[tuple[str, str]]:
    found = set()
    for m in _PAIR.finditer(text):
        words = [w for w in re.findall(r"[a-z]+", m.group(1).lower()) if w not in _PAIR_SKIP]
        if not words or words[-1] in _UNITS or words[-1] in _TIME_UNITS:
            continue
        found.add((" ".join(words[-2:]), _number_text(m.group(2))))
    return frozenset(found)


def _regimens(text: str) -> frozenset[tuple[str, str, str]]:
    """Each drug with the dose and frequency written after it, up to the next drug: in a list
    ("captopril 75 mg tid, lopressor 50 mg bid") a frequency belongs to its own drug."""
    mentions = drug_mentions(text)
    found = set()
    for i, mention in enumerate(mentions):
        end = mentions[i + 1].start if i + 1 < len(mentions) else len(text)
        segment = text[mention.end : end]
        first = _QUANTITY.search(segment)
        if first:
            found.add((mention.generic, "dose", f"{_number_text(first.group(1))} {_UNITS[first.group(2).lower()]}"))
        for pattern, name in _FREQUENCY_PATTERNS:
            if pattern.search(segment):
                found.add((mention.generic, "frequency", name))
    return frozenset(found)


@lru_cache(maxsize=8192)
def facts_of(text: str) -> Facts:
    text = " ".join(words_to_digits(text).split())
    lower = text.lower()
    date_values, months = _dates(text)
    date_numbers = {n for d in date_values for n in (str(d[1]), str(d[2]), str(d[0]))}
    frequencies = {name for pattern, name in _FREQUENCY_PATTERNS if pattern.search(text)}
    for m in _EVERY_N.finditer(text):
        hours = m.group(1) or m.group(2)
        hours = str(_NUMBER_WORDS.get(hours.lower(), hours)) if hours else ""
        named = {
            "24": "daily",
            "12": "twice daily",
            "8": "three times daily",
            "6": "four times daily",
            "48": "every other day",
        }.get(hours)
        frequencies.add(named or f"every {hours} hours")
    # "every 12 hours" and "q12h" carry the same number
    numbers_text = re.sub(r"\bevery (\d{1,2}) ?(?:hours?|hrs?|h)\b", r"q\1h", text, flags=re.I)
    # "4 times daily" is a frequency (compared as one), not a count the source must repeat
    numbers_text = re.sub(r"\b\d times (?:a |per )?(?:day|daily)\b", " ", numbers_text, flags=re.I)
    return Facts(
        numbers=frozenset(_number_text(n) for n in _NUMBER.findall(numbers_text)) | frozenset(date_numbers - {"0"}),
        quantities=frozenset((_number_text(n), _UNITS[u.lower()]) for n, u in _QUANTITY.findall(text)),
        frequencies=frozenset(frequencies),
        as_needed=bool(_AS_NEEDED.search(text)),
        routes=frozenset(name for pattern, name in _ROUTE_PATTERNS if pattern.search(text)),
        statuses=_statuses(text),
        directions=frozenset(
            _DIRECTIONS[m.group(1)] for m in _DIRECTION_WORD.finditer(lower) if not _ANATOMY.match(lower, m.end())
        ),
        dates=date_values,
        months=months,
        durations=frozenset((_number_text(n), _TIME_UNITS[u.lower()]) for n, u in _DURATION.findall(text)),
        sides=tuple(_SIDES[s.lower()] for s in _SIDE.findall(text)),
        pairs=_pairs(text),
        regimens=_regimens(text),
        drugs=drugs_in(text),
    )


def status_supported(claimed: tuple[str, str], evidence: frozenset[tuple[str, str]]) -> bool:
    """A claimed status is supported by the same status (or a synonym) with a compatible tense:
    a plan never supports a claim that it was done."""
    status, tense = claimed
    for other, other_tense in evidence:
        if other != status and other not in _STATUS_SYNONYMS.get(status, ()):
            continue
        if tense == other_tense or tense == "plan" or (tense in ("done", "now") and other_tense in ("done", "now")):
            return True
    return False


def date_supported(claimed: tuple[int, int, int], evidence: frozenset[tuple[int, int, int]]) -> bool:
    year, month, day = claimed
    return any(m == month and d == day and (not year or not y or y == year) for y, m, d in evidence)


def date_of(value: tuple[int, int, int]) -> date | None:
    try:
        return date(value[0] or 2000, value[1], value[2])
    except ValueError:
        return None
