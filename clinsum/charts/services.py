"""Writes to charts: patients and notes in, one transaction per batch, embedding enqueued on commit."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction

from .models import EmbeddingStatus, Note, NoteType, Patient, Sex
from .records import NoteRecord, PatientRecord

logger = logging.getLogger(__name__)

EMBED_BATCH = 16  # notes per embedding task: large enough to batch the encoder


class IngestError(Exception):
    """A batch was rejected; `problems` lists (line or None, message) and nothing was written."""

    def __init__(self, problems: list[tuple[int | None, str]]):
        self.problems = problems
        super().__init__("; ".join(f"line {line}: {msg}" if line else msg for line, msg in problems[:20]))


@dataclass
class IngestResult:
    notes_new: int = 0
    notes_unchanged: int = 0
    patients_new: int = 0
    note_ids: list[int] = field(default_factory=list)


def note_content_hash(text: str) -> str:
    """SHA-256 of the text with line endings and trailing spaces normalised, so a re-export
    of the same note from another system is recognised as the same note."""
    normalised = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return hashlib.sha256(normalised.strip().encode("utf-8")).hexdigest()


def _note_problems(record: NoteRecord) -> list[str]:
    problems = []
    if not record.mrn.strip():
        problems.append("missing MRN")
    if not record.text.strip():
        problems.append("empty note text")
    if len(record.text) > settings.NOTE_MAX_CHARS:
        problems.append(f"note has {len(record.text):,} characters; the limit is {settings.NOTE_MAX_CHARS:,}")
    if "\x00" in record.text:
        problems.append("note text contains NUL bytes (binary file?)")
    if not isinstance(record.authored_at, datetime) or record.authored_at.tzinfo is None:
        problems.append("authored_at must be a date-time with a time zone")
    return problems


def _patient_conflicts(patient: Patient, record: PatientRecord) -> list[str]:
    """Demographics that disagree with the stored patient (a wrong MRN would merge two people)."""
    conflicts = []
    if record.family_name and patient.family_name.casefold() != record.family_name.casefold():
        conflicts.append("family name")
    if record.birth_date and patient.birth_date and patient.birth_date != record.birth_date:
        conflicts.append("birth date")
    if record.sex not in ("", Sex.UNKNOWN) and patient.sex not in ("", Sex.UNKNOWN) and patient.sex != record.sex:
        conflicts.append("sex")
    return conflicts


def notes_ingest(*, notes: list[NoteRecord], patients: list[PatientRecord] = ()) -> IngestResult:
    """Store patients and notes all-or-nothing. Unknown MRNs, empty or oversized notes and
    conflicting demographics reject the whole batch with every problem listed; duplicates
    (same patient, same content hash) are skipped. New notes are queued for embedding once
    the transaction commits."""
    problems: list[tuple[int | None, str]] = []
    result = IngestResult()
    with transaction.atomic():
        by_mrn: dict[str, Patient] = {
            p.mrn: p for p in Patient.objects.filter(mrn__in={r.mrn for r in [*patients, *notes]})
        }
        for record in patients:
            existing = by_mrn.get(record.mrn)
            if existing is None:
                patient = Patient.objects.create(
                    mrn=record.mrn, family_name=record.family_name, given_name=record.given_name,
                    birth_date=record.birth_date, sex=record.sex or Sex.UNKNOWN, unit=record.unit,
                )
                by_mrn[record.mrn] = patient
                result.patients_new += 1
            else:
                conflicts = _patient_conflicts(existing, record)
                if conflicts:
                    problems.append((None, f"patient {record.mrn}: {', '.join(conflicts)} differ from the stored record"))
        seen: set[tuple[int, str]] = set()
        new_notes: list[Note] = []
        for record in notes:
            record_problems = _note_problems(record)
            patient = by_mrn.get(record.mrn)
            if patient is None and record.mrn.strip():
                record_problems.append(f"unknown patient MRN {record.mrn!r}")
            if record_problems:
                problems.extend((record.line, p) for p in record_problems)
                continue
            digest = note_content_hash(record.text)
            if (patient.pk, digest) in seen:
                result.notes_unchanged += 1
                continue
            seen.add((patient.pk, digest))
            new_notes.append(
                Note(
                    patient=patient,
                    note_type=record.note_type if record.note_type in NoteType.values else NoteType.OTHER,
                    author=record.author[:200], author_role=record.author_role[:64],
                    authored_at=record.authored_at, title=record.title[:300], text=record.text,
                    content_hash=digest, source=record.source[:300],
                )
            )
        if problems:
            transaction.set_rollback(True)
            raise IngestError(problems)
        existing_hashes = set(
            Note.objects.filter(patient__in={n.patient_id for n in new_notes}, content_hash__in={n.content_hash for n in new_notes})
            .values_list("patient_id", "content_hash")
        )
        fresh = [n for n in new_notes if (n.patient_id, n.content_hash) not in existing_hashes]
        result.notes_unchanged += len(new_notes) - len(fresh)
        created = Note.objects.bulk_create(fresh, batch_size=500)
        result.notes_new = len(created)
        result.note_ids = [n.pk for n in created]
        note_ids = list(result.note_ids)
        transaction.on_commit(lambda: notes_embed_enqueue(note_ids=note_ids))
    logger.info("ingest committed: %d new notes, %d unchanged, %d new patients",
                result.notes_new, result.notes_unchanged, result.patients_new)
    return result


def notes_embed_enqueue(*, note_ids: list[int]) -> None:
    from .tasks import notes_embed

    for start in range(0, len(note_ids), EMBED_BATCH):
        notes_embed.delay(note_ids[start : start + EMBED_BATCH])


def note_mark_embedding(*, note_ids: list[int], status: str) -> None:
    Note.objects.filter(pk__in=note_ids).update(embedding_status=status)

