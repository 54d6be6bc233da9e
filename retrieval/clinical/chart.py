"""Reading a chart the way a clinician does: what is wrong, what the patient takes now, what
they react to, what happened, what is still to do. Pure functions over a patient's chunks.

Note type and recency decide what counts: a discharge summary's diagnoses and medication list
outrank progress notes, a newer statement outranks an older one, nursing notes never stand for a
complete medication list. Every finding quotes the statements it comes from (source id and the
statement's text), so the verifier can check it like any other claim. Findings of kind
"not_listed" (a drug on the previous list and missing from the newest one) and "conflict" (two
notes that disagree about allergies) are composed from two cited statements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from retrieval.types import Hit

from .context import mentions
from .drugs import drug_mentions, drugs_in
from .injection import model_addressed
from .statements import statement_spans

# Chunk sections (as the chunker names them) that hold each kind of statement.
SECONDARY_SECTIONS = ("secondary_diagnoses", "secondary_diagnosis", "other_diagnoses", "additional_diagnoses")
ASSESSMENT_SECTIONS = ("assessment_and_plan", "assessment", "impression", "impression_and_plan", "clinical_impression")
MEDICATION_LIST_SECTIONS = (
    "discharge_medications",
    "medications",
    "current_medications",
    "home_medications",
    "medications_on_discharge",
    "discharge_meds",
    "outpatient_medications",
    "medications_at_discharge",
    "medications_on_admission",
    "admission_medications",
)
ALLERGY_SECTIONS = ("allergies", "drug_allergies", "allergies_and_reactions")
FOLLOW_UP_SECTIONS = (
    "follow_up",
    "followup",
    "follow_up_appointments",
    "discharge_instructions",
    "disposition",
    "discharge_plan",
    "recommendations",
)
PLAN_SECTIONS = ("plan", "assessment_and_plan")
MAX_PROBLEMS, MAX_EVENTS, MAX_FOLLOW_UPS, MAX_MEDICATIONS = 8, 6, 6, 30
STAY_DAYS = 30  # lists older than this before the newest are another stay, not changes of this one

_MARKER = re.compile(r"^\s*(?:[-*\u2022]\s*|\d{1,2}[.)]\s+)")
_LABEL = re.compile(r"^\s*(?:[-*\u2022]\s*|\d{1,2}[.)]\s+)?[#\s]*([A-Z][A-Za-z /&()-]{1,40}):\s*")
_HEADER_ONLY = re.compile(r"^[#\s]*[A-Za-z][A-Za-z0-9 /&(),-]{0,48}:?\s*$")
_NONE = re.compile(r"^\W*(?:none|n/?a|not applicable|no(?:ne)? (?:reported|known|significant))\W*$", re.I)
# Note furniture: signatures, service headers, routine nursing safety lines, patient instructions
# that every discharge carries, code status. Never a problem, event or follow-up.
_FURNITURE = re.compile(
    r"\b(?:electronically signed|signed by|dictated by|transcribed|date of service|attending:|unit:|"
    r"seen and examined|discussed with (?:nursing|the (?:patient|family)|dr\b)|patient seen and discussed|"
    r"continue (?:poc|plan of care)|call (?:light|bell)|bed alarm|fall precautions|side ?rails|"
    r"return to the (?:emergency|ed\b)|diet and activity as tolerated|code status|provider aware|"
    r"per mar\b|will continue to monitor|no new concerns|no acute events overnight|chart, vitals)",
    re.I,
)
# A statement that no allergy is known; shared with the verifier (currency, conflicts).
NO_ALLERGY = re.compile(
    r"\b(?:nkda|nka|no known (?:\w+ )?allerg\w*|no (?:drug )?allergies|none reported"
    r"|allergies:?\s*(?:none|nkda|nka|no known)|denies (?:any )?(?:drug )?allergies)\b"
    r"|^\W*(?:allergies:?\s*)?none\W*$",
    re.I,
)
_ALLERGIC = re.compile(r"\ballergic to\b|\ballergy to\b|\ballergies? (?:include|are|to)\b", re.I)
_SNOMED_TAG = re.compile(r"\((?:finding|situation|person|observable entity|regime/therapy|procedure)\)")
_ONE_LINER = re.compile(r"\b\d{1,3}[- ](?:year|yr)[- ]old\b|\b\d{1,3} ?y/?o\b", re.I)
_STAY_DATES = re.compile(r"\badmission date\b|\bdischarge date\b|\bdate of admission\b|\bdate of discharge\b", re.I)
_EVENT_WORDS = re.compile(
    r"\b(?:underwent|performed|placed|transfus\w*|echocardiogra\w*|endoscop\w*|colonoscop\w*|biops\w*|ct\b|mri\b|"
    r"x-ray|catheteri[sz]ation|angiogra\w*|surgery|intubat\w*|extubat\w*|transferred|cultures?|"
    r"started|stopped|changed|switched|converted|defervesced|weaned|drained|resected|repaired)",
    re.I,
)
_FOLLOW_WORDS = re.compile(
    r"\b(?:follow[- ]?up|f/u|pending|repeat|recheck|outpatient|clinic|appointment|monitor\b|schedul\w*|refer\w*|"
    r"return visit|in \d+(?:-\d+)? (?:days?|weeks?|months?)|vaccinat\w*|labs? in)\b",
    re.I,
)


def statement_clean(text: str) -> str:
    """A statement as a claim: whitespace collapsed, list marker and section label dropped."""
    text = " ".join(text.split())
    label = _LABEL.match(text)
    if label and len(text) - label.end() >= 3:
        return text[label.end() :]
    marker = _MARKER.match(text)
    return text[marker.end() :] if marker else text


@dataclass(frozen=True)
class Statement:
    source_id: str
    hit: Hit
    start: int  # offsets in hit.text
    end: int

    @property
    def text(self) -> str:
        return self.hit.text[self.start : self.end]

    @property
    def clean(self) -> str:
        return statement_clean(self.text)

    @property
    def when(self) -> datetime | None:
        return self.hit.authored_at


@dataclass(frozen=True)
class Finding:
    section: str
    text: str
    cites: tuple[tuple[str, str], ...]  # (source id, quote)
    kind: str = ""  # "" (quoted), "not_listed", "conflict"


def _quote(statement: Statement) -> tuple[str, str]:
    return statement.source_id, statement.text


def _found(section: str, statement: Statement, text: str | None = None) -> Finding:
    return Finding(section, text or statement.clean, (_quote(statement),))


def _date(value: datetime | None) -> str:
    return f"{value:%m/%d/%Y}" if value else "undated"


def chart_statements(sources: dict[str, Hit]) -> list[Statement]:
    """Every statement of the sources, oldest note first, in reading order; text written at a
    model is left out (it is never evidence)."""
    ordered = sorted(
        sources.items(),
        key=lambda item: (
            item[1].authored_at
            or datetime.min.replace(tzinfo=item[1].authored_at.tzinfo if item[1].authored_at else None),
            item[1].note_id,
            item[1].ordinal,
            item[1].char_start,
        ),
    )
    found = []
    for source_id, hit in ordered:
        for start, end in statement_spans(hit.text):
            statement = Statement(source_id, hit, start, end)
            if not model_addressed(statement.text):
                found.append(statement)
    return found


def _notes(statements: list[Statement]) -> list[list[Statement]]:
    """Statements grouped by note, oldest note first."""
    by_note: dict[int, list[Statement]] = {}
    for s in statements:
        by_note.setdefault(s.hit.note_id, []).append(s)
    return list(by_note.values())


def _content(statement: Statement) -> bool:
    text = statement.clean
    return (
        len(text.split()) >= 1
        and not _HEADER_ONLY.match(" ".join(statement.text.split()))
        and not _NONE.match(text)
        and not _FURNITURE.search(statement.text)
    )


def _in(statements: list[Statement], sections: tuple[str, ...]) -> list[Statement]:
    return [s for s in statements if s.hit.section in sections and _content(s)]


def _physician(note: list[Statement]) -> bool:
    return note[0].hit.note_type not in ("nursing",)


def _problem_name(statement: Statement) -> str:
    """'1. Community-acquired pneumonia, left lower lobe: Step down to ...' -> the problem's name."""
    text = " ".join(statement.text.split())
    text = _MARKER.sub("", text, count=1)
    head = re.split(r":\s", text, maxsplit=1)[0].rstrip(":").strip()
    return head if 1 <= len(head.split()) <= 12 else ""


def _list_items(statements: list[Statement]) -> list[Statement]:
    """Numbered items kept whole: "1. Epigastric pain. Questionable gastritis." is one item of
    two sentences (one span of the same chunk), not two diagnoses."""
    items: list[Statement] = []
    for s in statements:
        previous = items[-1] if items else None
        if (
            previous is not None
            and previous.hit is s.hit
            and _MARKER.match(previous.text)
            and not _MARKER.match(s.text)
            and not _LABEL.match(s.text)
        ):
            items[-1] = Statement(previous.source_id, previous.hit, previous.start, s.end)
        else:
            items.append(s)
    return items


def _diagnosis_rank(section: str) -> int | None:
    """Which diagnosis sections state the principal diagnosis first: discharge / principal /
    primary / final ones, then a plain diagnosis list, then the admission diagnoses.
    Headers vary ("PRIMARY DISCHARGE DIAGNOSES", "DISCHARGE DIAGNOSIS (ES)"), so by words."""
    if section == "axis_i":  # a psychiatric multiaxial diagnosis: axis I is the principal disorder
        return 0
    if (
        "diagnos" not in section
        or "diagnostic" in section
        or "differential" in section
        or section in SECONDARY_SECTIONS
        or "secondary" in section
    ):
        return None
    if any(w in section for w in ("discharge", "principal", "primary", "final")):
        return 0
    if any(w in section for w in ("admission", "admitting", "preoperative", "pre_operative")):
        return 2
    return 1


def _SOCIAL_FINDING_ONLY(text: str) -> bool:
    """SNOMED-coded text ("full-time employment (finding)") that names no disorder: a social or
    administrative finding, not a problem to treat."""
    return bool(_SNOMED_TAG.search(text)) and "(disorder)" not in text


def _coded_disorders(notes: list[list[Statement]]) -> list[Finding]:
    """Charts written from coded data (Synthea, an EHR export) list a history of SNOMED terms:
    the disorders among them, from the newest note that names any, each quoted."""
    for note in reversed(notes):
        for s in note:
            if "(disorder)" not in s.text:
                continue
            found = []
            for match in re.finditer(r"[^,.;:]*?\(disorder\)", s.text):
                item = match.group(0).strip()
                item = re.sub(r"^(?:patient has a history of|history of|and)\s+", "", item, flags=re.I)
                if item:
                    found.append(Finding("problems", item, ((s.source_id, item),)))
            if found:
                return _latest_stages(found)
    return []


_STAGED = re.compile(r"^(?P<base>.*?)\s*,?\s*stage (?P<stage>\d+|[iv]+)\b", re.I)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}
_END_STAGE_OF = {"end-stage renal disease": "chronic kidney disease"}


def _latest_stages(found: list[Finding]) -> list[Finding]:
    """A coded history lists each stage a disease passed through ("chronic kidney disease stage
    1 ... 2 ... 3", then "end-stage renal disease"): only the highest stage is the patient's
    now, so the lower stages of the same disease are dropped."""

    def stage(finding: Finding) -> tuple[str, int] | None:
        name = finding.text.lower().replace(" (disorder)", "")
        for end_stage, base in _END_STAGE_OF.items():
            if name.startswith(end_stage):
                return base, 99
        match = _STAGED.match(name)
        if not match:
            return None
        number = match["stage"]
        return match["base"].strip(), int(number) if number.isdigit() else _ROMAN.get(number, 0)

    staged = [(finding, stage(finding)) for finding in found]
    highest: dict[str, int] = {}
    for _, disease in staged:
        if disease is not None:
            highest[disease[0]] = max(highest.get(disease[0], 0), disease[1])
    return [f for f, disease in staged if disease is None or disease[1] == highest[disease[0]]]


def problems_read(statements: list[Statement]) -> tuple[list[Finding], list[Finding]]:
    """(header findings, problem findings): the principal diagnosis first, then the active ones,
    from the newest note that states diagnoses (discharge diagnoses outrank an assessment)."""
    notes = [n for n in _notes(statements) if _physician(n)]
    header: list[Finding] = []
    problems: list[Finding] = []
    stay_note: list[Statement] = []
    for note in reversed(notes):
        ranked = sorted(
            {s.hit.section for s in note if _diagnosis_rank(s.hit.section) is not None},
            key=lambda section: _diagnosis_rank(section) or 0,
        )
        dx = _list_items([s for section in ranked for s in _in(note, (section,))])
        if dx:
            problems.append(_found("problems", dx[0]))
            problems += [_found("problems", s) for s in _in(note, SECONDARY_SECTIONS) + dx[1:]]
            stay = [s for s in note if _STAY_DATES.search(s.text)]
            header += [_found("header", s, " ".join(s.text.split())) for s in stay[:1]]
            stay_note = note if stay else []
            break
    assessment_notes = [n for n in reversed(notes) if _in(n, ASSESSMENT_SECTIONS)]
    newest = _in(assessment_notes[0], ASSESSMENT_SECTIONS) if assessment_notes else []
    one_liner = next((s for s in newest if _ONE_LINER.search(s.text)), None)

    def position(note: list[Statement]) -> int:  # notes run oldest to newest
        return next(i for i, n in enumerate(notes) if n is note)

    if stay_note and (one_liner is None or position(assessment_notes[0]) < position(stay_note)):
        # A discharge note's dates close the stay: an older progress note's "hospital day 3,
        # improving" would sit beside them as if current, so the one-liner comes from the
        # discharge note itself, or there is none.
        one_liner = next((s for s in stay_note if _ONE_LINER.search(s.text)), None)
    if one_liner is not None:
        header.append(_found("header", one_liner))
    if newest and not problems:
        numbered = [s for s in newest if re.match(r"\s*\d{1,2}[.)]\s", s.text) and _problem_name(s)]
        for s in numbered:
            problems.append(Finding("problems", _problem_name(s), (_quote(s),)))
        if not problems:
            problems += [
                _found("problems", s) for s in newest if s is not one_liner and not _SOCIAL_FINDING_ONLY(s.text)
            ][:3]
    if not problems:
        problems = _coded_disorders(notes)
    seen: set[str] = set()
    unique = []
    for finding in problems:
        key = finding.text.lower()
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return header, unique[:MAX_PROBLEMS]


def _drug_first(text: str) -> bool:
    """A list entry names its drug first ("Seroquel 25 mg ..."); a sentence that mentions a drug
    at its end ("had galactorrhea from the use of Risperdal") is not an entry of the list."""
    found = drug_mentions(text)
    if not found or (found[0].start > 30 and len({d.generic for d in found}) < 2):
        return False  # a prose list ("Resume home medications, but increase Lasix ...") names several
    first = text[found[0].start : found[0].end].lower().split()[0]
    return not any(m.negated for m in mentions(text) if m.word == first)  # "Do not give Risperdal."


def _medication_list(section: str) -> bool:
    """'MEDICATIONS:', 'DISCHARGE MEDICATION:', 'CURRENT MEDS:', 'MEDICATIONS ON ADMISSION:' ..."""
    return section in MEDICATION_LIST_SECTIONS or (
        ("medication" in section or section.endswith("meds") or section.startswith("meds"))
        and not any(w in section for w in ("allerg", "reconcil", "administ", "given"))
    )


def medication_list_section(section: str, note_type: str) -> bool:
    """A chunk section that holds a physician's complete medication list (the lists
    medications_read compares; a nurse's "Meds: ... given per MAR" is not one)."""
    return note_type != "nursing" and _medication_list(section)


def _drug_items(statement: Statement) -> list[Statement]:
    """A list written on one line, as coded exports write it ("lisinopril 10 mg oral tablet;
    metformin ...; ..."), is one item per drug: split at the semicolons when every part names a
    drug ("Lasix 40 mg daily; hold if SBP < 90" stays one item)."""
    text = statement.text
    if ";" not in text:
        return [statement]
    parts: list[Statement] = []
    offset = 0
    for piece in text.split(";"):
        start, end = offset + len(piece) - len(piece.lstrip()), offset + len(piece.rstrip())
        offset += len(piece) + 1
        if end > start:
            parts.append(Statement(statement.source_id, statement.hit, statement.start + start, statement.start + end))
    if len(parts) < 2 or not all(drugs_in(p.text) for p in parts):
        return [statement]
    return parts


def medication_lists(statements: list[Statement]) -> list[list[Statement]]:
    """Complete medication lists, oldest first: per physician note, the items (statements with a
    drug) of its discharge list, or else of its medication list."""
    lists = []
    for note in _notes(statements):
        if not _physician(note):
            continue
        items = [
            item for s in note if _medication_list(s.hit.section) for item in _drug_items(s) if _drug_first(item.clean)
        ]
        discharge = [s for s in items if "discharge" in s.hit.section]
        if discharge or items:
            lists.append(discharge or items)
    return lists


def _list_name(items: list[Statement]) -> str:
    return "discharge medication list" if "discharge" in items[0].hit.section else "medication list"


def medications_read(statements: list[Statement]) -> list[Finding]:
    """The newest complete list is the base; each drug once; a drug on the previous list and not
    on the newest one is shown as stopped; a newer note that stops a listed drug is shown."""
    lists = medication_lists(statements)
    if not lists:
        return []
    base = lists[-1]
    base_at = base[0].when
    findings: list[Finding] = []
    listed: set[str] = set()
    for item in base:
        drugs = drugs_in(item.text)
        if drugs <= listed:
            continue
        listed |= drugs
        findings.append(_found("medications", item))
    stopped: list[Finding] = []
    # The whole newest list is cited (every chunk it spans), so its silence can be checked.
    base_chunks = tuple(dict.fromkeys((s.source_id, s.hit.text) for s in base))
    shown: set[str] = set()
    for earlier in reversed(lists[:-1]):  # every complete list of this stay, newest first
        if base_at and earlier[0].when and (base_at - earlier[0].when).days > STAY_DAYS:
            break
        for item in earlier:
            drugs = drugs_in(item.text)
            if drugs and not drugs & listed and not drugs & shown:
                shown |= drugs  # the drug's last list before it was stopped is the one cited
                text = f"{item.clean}: stopped, not on the {_list_name(base)} of {_date(base_at)}"
                stopped.append(Finding("medications", text, (_quote(item), *base_chunks), kind="not_listed"))
    later = [s for s in statements if base_at and s.when and s.when > base_at and drugs_in(s.text) & listed]
    for s in later:
        lowered = s.text.lower()
        if re.search(r"\b(?:discontinued|stopped|held|d/c'?d)\b", lowered) and _content(s):
            stopped.append(_found("medications", s))
    return (findings + stopped)[:MAX_MEDICATIONS]


def _allergy_key(text: str) -> str:
    words = re.findall(r"[a-z][a-z-]+", re.split(r"[(:]", text.lower(), maxsplit=1)[0])
    return " ".join(w for w in words if w not in ("allergic", "allergy", "allergies", "to", "and", "the"))


def allergies_read(statements: list[Statement]) -> list[Finding]:
    """Every allergy any note lists (newest statement per substance, cited); "no known allergies"
    only when no note lists one; notes that disagree are shown as a conflict citing both."""
    listing: dict[str, Statement] = {}
    negative: list[Statement] = []
    for s in statements:
        in_section = s.hit.section in ALLERGY_SECTIONS
        if not (in_section or _ALLERGIC.search(s.text)) or _HEADER_ONLY.match(" ".join(s.text.split())):
            continue
        if NO_ALLERGY.search(s.clean) or NO_ALLERGY.search(s.text):
            negative.append(s)
            continue
        if not in_section and not drugs_in(s.text) and not _ALLERGIC.search(s.text):
            continue
        key = _allergy_key(s.clean)
        if key and not _FURNITURE.search(s.text):
            listing[key] = s  # statements are oldest first: the newest statement per substance stays
    findings = [_found("allergies", s) for s in sorted(listing.values(), key=lambda s: s.clean.lower())]
    if negative and findings:
        newest_negative = negative[-1]
        listed = max(listing.values(), key=lambda s: (s.when is not None, s.when))
        text = (
            f"Conflict: {newest_negative.clean.rstrip('.')} ({_note_label(newest_negative)}) but "
            f"{listed.clean.rstrip('.')} ({_note_label(listed)})"
        )
        findings.insert(0, Finding("allergies", text, (_quote(newest_negative), _quote(listed)), kind="conflict"))
    elif negative:
        findings.append(_found("allergies", negative[-1]))
    return findings


def _note_label(statement: Statement) -> str:
    kind = (statement.hit.note_type or "note").replace("_", " ")
    return f"{kind} {_date(statement.when)}"


def events_read(statements: list[Statement]) -> list[Finding]:
    """Procedures (from the newest note that lists them) and significant events of the hospital
    course, newest first."""
    notes = [n for n in _notes(statements) if _physician(n)]
    findings: list[Finding] = []
    for note in reversed(notes):
        procedures = list(_in(note, ("procedures", "procedure", "procedures_performed", "operations")))
        if procedures:
            findings += [_found("recent_events", s) for s in reversed(procedures)]
            break
    for note in reversed(notes):
        course = [
            s for s in _in(note, ("hospital_course", "brief_hospital_course", "course")) if _EVENT_WORDS.search(s.text)
        ]
        if course:
            findings += [_found("recent_events", s) for s in course]
            break
    return findings[:MAX_EVENTS]


def follow_ups_read(statements: list[Statement]) -> list[Finding]:
    """Follow-up items of the newest note that has them (the discharge summary's FOLLOW-UP
    list once discharged), and results still pending."""
    notes = [n for n in _notes(statements) if _physician(n)]
    findings: list[Finding] = []
    for note in reversed(notes):
        items = [
            s for s in _in(note, FOLLOW_UP_SECTIONS) if s.hit.section != "disposition" or _FOLLOW_WORDS.search(s.text)
        ]
        plan = [s for s in _in(note, PLAN_SECTIONS) if _FOLLOW_WORDS.search(s.text)]
        if items or plan:
            findings += [_found("follow_ups", s) for s in items + plan]
            break
    if notes:
        newest = notes[-1]
        pending = [s for s in newest if re.search(r"\bpending\b", s.text, re.I) and _content(s)]
        findings += [_found("follow_ups", s) for s in pending]
    seen, unique = set(), []
    for f in findings:
        if f.cites not in seen:
            seen.add(f.cites)
            unique.append(f)
    return unique[:MAX_FOLLOW_UPS]


def chart_read(sources: dict[str, Hit]) -> list[Finding]:
    statements = chart_statements(sources)
    header, problems = problems_read(statements)
    return (
        header
        + problems
        + medications_read(statements)
        + allergies_read(statements)
        + events_read(statements)
        + follow_ups_read(statements)
    )
