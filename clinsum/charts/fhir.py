"""FHIR R4 in: NDJSON bulk exports, Bundles (transaction, batch, collection, searchset) and single
resources become PatientRecords and NoteRecords for services.notes_ingest.

Patient and DocumentReference (and Binary, when a DocumentReference's attachment points at
one in the same bundle) are validated with the `fhir.resources` R4B models (R4B is R4 with
errata; the package's top-level models are R5). Every other resource type is counted and
ignored without validation, so an Observation ClinSum does not store cannot block the notes.
Nothing here fetches a URL or touches the database; problems carry the NDJSON line number
(1-based) or the bundle entry index (0-based, as in FHIRPath `Bundle.entry[i]`).
"""

from __future__ import annotations

import codecs
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from html.parser import HTMLParser

from django.conf import settings
from fhir.resources.R4B.binary import Binary
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from .models import NoteType
from .records import (
    MAX_JSON_DEPTH,
    NoteRecord,
    PatientRecord,
    hospital_zone,
    json_loads,
    note_problems,
    patient_problems,
)

BUNDLE_TYPES = ("transaction", "batch", "collection", "searchset")

# LOINC document type codes -> ClinSum note types; the first coding that maps wins.
LOINC_NOTE_TYPES = {
    "34117-2": NoteType.HISTORY_PHYSICAL,  # History and physical note
    "11506-3": NoteType.PROGRESS,  # Progress note
    "34746-8": NoteType.NURSING,  # Nurse note
    "11488-4": NoteType.CONSULT,  # Consult note
    "18842-5": NoteType.DISCHARGE,  # Discharge summary
    "34111-5": NoteType.EMERGENCY,  # Emergency department note
    "11504-8": NoteType.OPERATIVE,  # Surgical operation note
}
# When no code maps: the type's text or a coding's display, case-insensitively.
DISPLAY_NOTE_TYPES = {
    "history and physical note": NoteType.HISTORY_PHYSICAL,
    "history and physical": NoteType.HISTORY_PHYSICAL,
    "progress note": NoteType.PROGRESS,
    "nurse note": NoteType.NURSING,
    "nursing note": NoteType.NURSING,
    "consult note": NoteType.CONSULT,
    "consultation note": NoteType.CONSULT,
    "discharge summary": NoteType.DISCHARGE,
    "emergency department note": NoteType.EMERGENCY,
    "operative note": NoteType.OPERATIVE,
    "surgical operation note": NoteType.OPERATIVE,
}


class FhirProblem(ValueError):
    """One resource cannot be used; the message says why (never with note text)."""


@dataclass
class Entry:
    """What became of one resource (for per-entry answers): kind is patient, note, binary,
    ignored or skipped; `record` indexes FhirParsed.patients or .notes."""

    index: int | None
    resource_type: str
    resource_id: str
    kind: str
    record: int | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class FhirParsed:
    patients: list[PatientRecord] = field(default_factory=list)
    notes: list[NoteRecord] = field(default_factory=list)
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored: Counter = field(default_factory=Counter)
    entries: list[Entry] = field(default_factory=list)
    location: str = "line"  # what `line` numbers: NDJSON lines, or bundle entries


# --- HTML ----------------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    """Text of an HTML document: the contents of script/style (and similar) are dropped,
    block elements become line breaks, character references are decoded."""

    DROP = frozenset({"script", "style", "template", "noscript", "iframe", "object", "title"})
    BLOCK = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "table",
            "ul",
            "ol",
            "section",
            "article",
            "header",
            "footer",
            "pre",
            "blockquote",
            "hr",
            "dd",
            "dt",
            "dl",
        }
    )

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth = 0  # inside how many dropped elements
        self.dropped: Counter = Counter()

    def handle_starttag(self, tag, attrs):
        if tag in self.DROP:
            self.depth += 1
            self.dropped[tag] += 1
        elif tag in self.BLOCK and not self.depth:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")

    def handle_startendtag(self, tag, attrs):
        if tag in self.BLOCK and not self.depth:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.DROP:
            self.depth = max(0, self.depth - 1)
        elif tag in self.BLOCK and not self.depth:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, Counter]:
    """(plain text, Counter of dropped elements such as script). Uses the standard library's
    HTML parser: nothing is executed and no markup survives into the text."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip(), parser.dropped


# --- small readers --------------------------------------------------------------------------


def _problem_from_validation(resource_type: str, exc: ValidationError) -> str:
    """Where and what, never the offending value (it may be PHI)."""
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__") or resource_type
        parts.append(f"{where}: {error.get('msg', 'invalid')}".replace("\n", " "))
    more = f" (and {exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
    return f"invalid {resource_type}: " + "; ".join(" ".join(p.split()) for p in parts) + more


def _validate(model, data: dict):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FhirProblem(_problem_from_validation(model.__name__, exc)) from None
    except (TypeError, ValueError, RecursionError) as exc:  # hostile shapes the models did not foresee
        raise FhirProblem(f"invalid {model.__name__}: {type(exc).__name__}") from None


def _media_type(content_type: str | None) -> tuple[str, str]:
    """'text/plain; charset=utf-8' -> ('text/plain', 'utf-8')."""
    if not content_type:
        return "", ""
    kind, _, params = content_type.partition(";")
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return kind.strip().lower(), charset


def _decode(raw: bytes, charset: str, *, warnings: list[str]) -> str:
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            raise FhirProblem(f"unknown charset {charset!r} in contentType") from None
    try:
        return raw.decode(charset or "utf-8")
    except UnicodeDecodeError as exc:
        warnings.append(
            f"attachment is not valid {charset or 'UTF-8'} (first bad byte at offset {exc.start}); read as Windows-1252"
        )
        return raw.decode("cp1252", errors="replace")


def _reference_id(reference: str, resource_type: str) -> str | None:
    """'Patient/xyz', 'https://host/fhir/Patient/xyz' or 'Patient/xyz/_history/2' -> 'xyz'."""
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == resource_type and parts[-1]:
        return parts[-1]
    return None


def note_type_for(concept) -> tuple[str, str | None]:
    """(ClinSum note type, the label it was known by if it is not one ClinSum knows)."""
    if concept is None:
        return NoteType.OTHER, "(none)"
    for coding in concept.coding or ():
        if coding.code in LOINC_NOTE_TYPES and (not coding.system or "loinc" in coding.system):
            return LOINC_NOTE_TYPES[coding.code], None
    labels = [concept.text] + [c.display for c in concept.coding or ()]
    for label in labels:
        if label and label.strip().lower() in DISPLAY_NOTE_TYPES:
            return DISPLAY_NOTE_TYPES[label.strip().lower()], None
    codes = [c.code for c in concept.coding or () if c.code]
    return NoteType.OTHER, next((label for label in labels if label), None) or ", ".join(codes) or "(none)"


def _aware(value) -> datetime | None:
    if value is None:
        return None
    # A date, or a time without a zone, is the hospital's (HOSPITAL_TIME_ZONE).
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=hospital_zone())
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=hospital_zone())
    return None


# --- resources ------------------------------------------------------------------------------


def patient_record(resource: Patient, *, line: int | None, unit: str = "") -> PatientRecord:
    identifiers = [i for i in resource.identifier or () if i.value and i.value.strip()]
    if not identifiers:
        raise FhirProblem("Patient has no identifier to use as MRN")
    mrn = next((i for i in identifiers if i.type and any(c.code == "MR" for c in i.type.coding or ())), identifiers[0])
    names = resource.name or []
    name = next((n for n in names if n.use == "official"), names[0] if names else None)
    family = (name.family or "").strip() if name else ""
    given = " ".join(g.strip() for g in name.given or () if g.strip()) if name else ""
    if name and not family and not given and name.text:
        family = name.text.strip()
    gender = resource.gender if resource.gender in ("female", "male", "other", "unknown") else "unknown"
    record = PatientRecord(
        mrn=mrn.value.strip(),
        family_name=family,  # too long a name is refused, never cut (patient_problems)
        given_name=given,
        birth_date=resource.birthDate,
        sex=gender,
        unit=unit,
        source_id=resource.id or "",
        line=line,
    )
    problems = patient_problems(record)
    if problems:
        raise FhirProblem("Patient: " + "; ".join(problems))
    return record


def _attachment_text(doc: DocumentReference, *, binaries: dict[str, Binary], warnings: list[str]) -> str:
    found_types = []
    candidates = []
    for content in doc.content or ():
        attachment = content.attachment
        kind, charset = _media_type(attachment.contentType)
        raw = attachment.data
        if raw is None and attachment.url:
            binary = binaries.get(attachment.url) or binaries.get(f"Binary/{_reference_id(attachment.url, 'Binary')}")
            if binary is None:
                raise FhirProblem(
                    f"attachment url {attachment.url[:100]!r} is not a Binary in this bundle "
                    "(ClinSum does not fetch URLs)"
                )
            raw = binary.data or b""
            if not kind:
                kind, charset = _media_type(binary.contentType)
        if raw is None:
            continue
        kind = kind or "text/plain"
        found_types.append(kind)
        if kind in ("text/plain", "text/html"):
            candidates.append((0 if kind == "text/plain" else 1, kind, charset, raw))
    if not candidates:
        if found_types:
            raise FhirProblem(f"no text/plain or text/html attachment (found {', '.join(sorted(set(found_types)))})")
        raise FhirProblem("DocumentReference has no attachment data")
    _, kind, charset, raw = min(candidates, key=lambda c: c[0])
    max_bytes = settings.NOTE_MAX_CHARS * 4  # no character is more than 4 bytes in UTF-8
    if len(raw) > max_bytes:
        raise FhirProblem(
            f"attachment has {len(raw):,} bytes; notes are limited to {settings.NOTE_MAX_CHARS:,} characters"
        )
    text = _decode(raw, charset, warnings=warnings)
    if kind == "text/html":
        text, dropped = html_to_text(text)
        if dropped:
            listed = ", ".join(f"{n} <{tag}>" for tag, n in sorted(dropped.items()))
            warnings.append(f"HTML attachment: removed {listed} element(s) and their content")
    return text


def note_record(
    doc: DocumentReference,
    *,
    line: int | None,
    source: str,
    patient_mrn: str,
    patient_source_id: str,
    binaries: dict[str, Binary] | None = None,
) -> tuple[NoteRecord, list[str]]:
    warnings: list[str] = []
    text = _attachment_text(doc, binaries=binaries or {}, warnings=warnings)
    authored = _aware(doc.date)
    if authored is None:
        for content in doc.content or ():
            authored = authored or _aware(content.attachment.creation)
        if authored is None and doc.context and doc.context.period:
            authored = _aware(doc.context.period.start)
    if authored is None:
        raise FhirProblem("DocumentReference has no date (date, attachment.creation or context.period.start)")
    note_type, unknown = note_type_for(doc.type)
    if unknown:
        warnings.append(f"note type {unknown[:80]!r} is not one ClinSum knows; stored as 'other'")
    title = ""
    if doc.type is not None:
        title = doc.type.text or next((c.display for c in doc.type.coding or () if c.display), "")
    title = title.strip() or (doc.description or "").strip()[:300]  # a long description: the title is its start
    source_id = doc.id or next((i.value for i in doc.identifier or () if i.value), "")
    author = next((a.display.strip() for a in doc.author or () if a.display and a.display.strip()), "")
    record = NoteRecord(
        mrn=patient_mrn,
        patient_source_id="" if patient_mrn else patient_source_id,
        note_type=note_type,
        authored_at=authored,
        text=text,
        author=author,
        title=title,
        source=source,
        line=line,
        source_id=source_id,
    )
    problems = note_problems(record)
    if problems:
        raise FhirProblem("DocumentReference: " + "; ".join(problems))
    return record, warnings


class _Subjects:
    """Resolves DocumentReference.subject: to a patient of this parse (by 'Patient/id' or a
    bundle fullUrl such as urn:uuid:...), else by upstream id for the ingest service to find."""

    def __init__(self):
        self.by_ref: dict[str, PatientRecord] = {}

    def add(self, record: PatientRecord, *, full_url: str | None = None) -> None:
        if record.source_id:
            self.by_ref[f"Patient/{record.source_id}"] = record
        if full_url:
            self.by_ref[full_url] = record

    def resolve(self, doc: DocumentReference) -> tuple[str, str]:
        """(mrn, patient upstream id): one of them set."""
        subject = doc.subject
        if subject is None or not (subject.reference or subject.identifier):
            raise FhirProblem("DocumentReference has no subject (the patient)")
        if subject.reference:
            reference = subject.reference
            if reference in self.by_ref:
                return self.by_ref[reference].mrn, ""
            patient_id = _reference_id(reference, "Patient")
            if patient_id is not None:
                local = self.by_ref.get(f"Patient/{patient_id}")
                return (local.mrn, "") if local else ("", patient_id)
            if reference.startswith("urn:"):
                raise FhirProblem(f"subject {reference[:100]!r} is not a Patient in this bundle")
            raise FhirProblem(f"subject {reference[:100]!r} is not a Patient reference")
        if subject.identifier.value:
            return subject.identifier.value.strip(), ""
        raise FhirProblem("DocumentReference subject has neither a reference nor an identifier value")


# --- containers -----------------------------------------------------------------------------


def _loads(raw: bytes | str, *, what: str) -> object:
    try:
        return json_loads(raw)
    except json.JSONDecodeError as exc:
        raise FhirProblem(f"invalid JSON in {what} ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except UnicodeDecodeError:
        raise FhirProblem(f"{what} is not UTF-8 (FHIR JSON must be)") from None
    except ValueError:
        raise FhirProblem(f"{what} is nested more than {MAX_JSON_DEPTH} levels deep") from None


def fhir_ndjson_parse(lines: Iterable[bytes | str], *, source: str, unit: str = "") -> FhirParsed:
    """A bulk-export NDJSON file, one resource per line. Patients are read before notes, so a
    file may hold both in any order; a note's patient may also be one stored earlier."""
    parsed = FhirParsed(location="line")
    subjects = _Subjects()
    docs: list[tuple[int, DocumentReference]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(line) > settings.FHIR_MAX_BYTES:
            parsed.problems.append((number, f"line has {len(line):,} bytes; the limit is {settings.FHIR_MAX_BYTES:,}"))
            continue
        try:
            data = _loads(line, what="this line")
            if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
                raise FhirProblem("not a FHIR resource (no resourceType)")
            kind = data["resourceType"]
            if kind == "Patient":
                record = patient_record(_validate(Patient, data), line=number, unit=unit)
                subjects.add(record)
                parsed.entries.append(Entry(number, kind, record.source_id, "patient", len(parsed.patients)))
                parsed.patients.append(record)
            elif kind == "DocumentReference":
                docs.append((number, _validate(DocumentReference, data)))
            else:
                parsed.ignored[kind] += 1
                parsed.entries.append(Entry(number, kind, str(data.get("id", ""))[:64], "ignored"))
        except FhirProblem as exc:
            parsed.problems.append((number, str(exc)))
    for number, doc in docs:
        _note_add(parsed, doc, index=number, source=f"{source}:{number}", subjects=subjects, binaries={})
    return parsed


def _note_add(
    parsed: FhirParsed,
    doc: DocumentReference,
    *,
    index: int,
    source: str,
    subjects: _Subjects,
    binaries: dict[str, Binary],
) -> None:
    if doc.status == "entered-in-error":
        parsed.ignored["DocumentReference (entered-in-error)"] += 1
        parsed.entries.append(
            Entry(
                index, "DocumentReference", doc.id or "", "skipped", warnings=["status is entered-in-error; not stored"]
            )
        )
        return
    try:
        mrn, patient_source_id = subjects.resolve(doc)
        record, warnings = note_record(
            doc,
            line=index,
            source=source[:300],
            patient_mrn=mrn,
            patient_source_id=patient_source_id,
            binaries=binaries,
        )
    except FhirProblem as exc:
        parsed.problems.append((index, str(exc)))
        return
    parsed.warnings.extend(f"{source}: {w}" for w in warnings)
    parsed.entries.append(Entry(index, "DocumentReference", record.source_id, "note", len(parsed.notes), warnings))
    parsed.notes.append(record)


def fhir_bundle_parse(data: dict, *, source: str, unit: str = "") -> FhirParsed:
    """A Bundle of type transaction, batch, collection or searchset."""
    parsed = FhirParsed(location="entry")
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        found = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        parsed.problems.append((None, f"expected a Bundle, got resourceType {str(found)[:40]!r}"))
        return parsed
    entries = data.get("entry") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        parsed.problems.append((None, "Bundle.entry must be a list of objects"))
        return parsed
    # The envelope is validated on its own; resources one by one below (locations per entry).
    envelope = dict(data, entry=[{k: v for k, v in e.items() if k != "resource"} for e in entries] or None)
    if envelope["entry"] is None:
        del envelope["entry"]
    try:
        bundle = _validate(Bundle, envelope)
    except FhirProblem as exc:
        parsed.problems.append((None, str(exc)))
        return parsed
    if bundle.type not in BUNDLE_TYPES:
        parsed.problems.append((None, f"Bundle type {bundle.type!r} is not accepted ({', '.join(BUNDLE_TYPES)})"))
        return parsed
    subjects = _Subjects()
    binaries: dict[str, Binary] = {}
    docs: list[tuple[int, DocumentReference]] = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource")
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            parsed.problems.append((index, "entry has no resource with a resourceType"))
            continue
        kind = resource["resourceType"]
        try:
            if kind == "Patient":
                record = patient_record(_validate(Patient, resource), line=index, unit=unit)
                subjects.add(record, full_url=full_url)
                parsed.entries.append(Entry(index, kind, record.source_id, "patient", len(parsed.patients)))
                parsed.patients.append(record)
            elif kind == "DocumentReference":
                docs.append((index, _validate(DocumentReference, resource)))
            elif kind == "Binary":
                binary = _validate(Binary, resource)
                for key in (full_url, f"Binary/{binary.id}" if binary.id else None):
                    if key:
                        binaries[key] = binary
                parsed.entries.append(Entry(index, kind, binary.id or "", "binary"))
            else:
                parsed.ignored[kind] += 1
                parsed.entries.append(Entry(index, kind, str(resource.get("id", ""))[:64], "ignored"))
        except FhirProblem as exc:
            parsed.problems.append((index, str(exc)))
    for index, doc in docs:
        _note_add(parsed, doc, index=index, source=f"{source}#entry[{index}]", subjects=subjects, binaries=binaries)
    parsed.entries.sort(key=lambda e: e.index if e.index is not None else -1)
    return parsed


def fhir_json_parse(raw: bytes, *, source: str, unit: str = "", bundle_only: bool = False) -> FhirParsed:
    """A JSON document: a Bundle, or (unless `bundle_only`) one DocumentReference or Patient,
    read as a bundle of one. The size limit is checked before anything is parsed."""
    if len(raw) > settings.FHIR_MAX_BYTES:
        return FhirParsed(
            problems=[(None, f"document has {len(raw):,} bytes; the limit is {settings.FHIR_MAX_BYTES:,}")]
        )
    try:
        data = _loads(raw, what="the document")
    except FhirProblem as exc:
        return FhirParsed(problems=[(None, str(exc))])
    if not bundle_only and isinstance(data, dict) and data.get("resourceType") in ("DocumentReference", "Patient"):
        return fhir_bundle_parse(
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": data}]}, source=source, unit=unit
        )
    return fhir_bundle_parse(data, source=source, unit=unit)


def is_fhir_json(head: bytes) -> bool:
    """Does this start of a file look like FHIR JSON (an object whose first key is resourceType,
    as every FHIR server writes it; or any object naming one, for a short first line)?"""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{"):
        return False
    first_line = text.split(b"\n", 1)[0]
    try:
        value = json_loads(first_line)
        return isinstance(value, dict) and "resourceType" in value
    except ValueError:  # not JSON, a cut-off first line, or nested too deeply
        return text[1:].lstrip().startswith(b'"resourceType"')
