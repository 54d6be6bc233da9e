"""Writes to charts: patients and notes in, one transaction per batch, embedding enqueued on commit."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .models import (
    NOTE_ORIGIN_DRAFT,
    NOTE_ORIGIN_IMPORT,
    Chunk,
    EmbeddingStatus,
    Note,
    NoteType,
    NoteVersion,
    Patient,
    ServiceToken,
    Sex,
    service_token_hash,
)
from .records import NoteRecord, PatientRecord, note_problems, patient_problems

logger = logging.getLogger(__name__)

RECOVER_NOTES_MAX = 20_000  # notes one recovery run queues again; the next run takes the rest
EMBED_BATCH = 128  # notes per embedding task: one encode call across many notes pads less (bench/README.md)


class IngestError(Exception):
    """A batch was rejected; `problems` lists (line or None, message) and nothing was written.
    `forbidden`: a record tried to amend a note its source does not own. `records`: how many
    records (lines, rows, entries) the refused input held, where a parser counted them."""

    def __init__(self, problems: list[tuple[int | None, str]], *, forbidden: bool = False, records: int | None = None):
        self.problems = problems
        self.forbidden = forbidden
        self.records = records
        super().__init__("; ".join(f"line {line}: {msg}" if line is not None else msg for line, msg in problems[:20]))


@dataclass
class IngestResult:
    notes_new: int = 0
    notes_unchanged: int = 0
    notes_amended: int = 0
    patients_new: int = 0
    note_ids: list[int] = field(default_factory=list)  # new and amended notes: to (re-)embed
    # Per note record, in input order: ("created" | "unchanged" | "amended", note id).
    outcomes: list[tuple[str, int]] = field(default_factory=list)
    # Per patient record, in input order: ("created" | "unchanged", patient id).
    patient_outcomes: list[tuple[str, int]] = field(default_factory=list)
    patient_ids: list[int] = field(default_factory=list)  # every patient the notes belong to


def note_content_hash(text: str) -> str:
    """SHA-256 of the text with line endings and trailing spaces normalised, so a re-export
    of the same note from another system is recognised as the same note."""
    normalised = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return hashlib.sha256(normalised.strip().encode("utf-8")).hexdigest()


def _note_problems(record: NoteRecord) -> list[str]:
    problems = note_problems(record)
    if isinstance(record.mrn, str) and not record.mrn.strip() and not record.patient_source_id:
        problems.append("missing MRN")
    if isinstance(record.text, str):
        if not record.text.strip():
            problems.append("empty note text")
        if len(record.text) > settings.NOTE_MAX_CHARS:
            problems.append(f"note has {len(record.text):,} characters; the limit is {settings.NOTE_MAX_CHARS:,}")
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


def _note_fields(record: NoteRecord) -> dict:
    return {
        "note_type": record.note_type if record.note_type in NoteType.values else NoteType.OTHER,
        "author": record.author[:200],
        "author_role": record.author_role[:64],
        "authored_at": record.authored_at,
        "title": record.title[:300],
        "source": record.source[:300],
    }


def notes_ingest(
    *,
    notes: list[NoteRecord],
    patients: Sequence[PatientRecord] = (),
    enqueue: bool = True,
    origin: str = NOTE_ORIGIN_IMPORT,
) -> IngestResult:
    """Store patients and notes all-or-nothing. Unknown patients, empty or oversized notes and
    conflicting demographics reject the whole batch with every problem listed.

    A note is identified by its upstream id (`source_id`, unique per patient) when it has one,
    else by its content: the same text again is "unchanged"; the same source_id with new text
    is an amendment (text and hash replaced, chunks deleted, embedding re-queued; summaries go
    stale because their fingerprint covers the content hashes). Only the note's own origin may
    amend it (a service token its own notes; a signed ClinSum draft never), and the replaced
    text is kept as a NoteVersion. New and amended notes are
    queued for embedding once the transaction commits (unless `enqueue` is False: the caller
    indexes them itself)."""
    # Every field is checked before the first query: a NUL byte or an overlong value must be a
    # listed problem, never a database error.
    problems: list[tuple[int | None, str]] = [
        (record.line, f"patient: {problem}") for record in patients for problem in patient_problems(record)
    ]
    problems += [(record.line, problem) for record in notes for problem in _note_problems(record)]
    if problems:
        raise IngestError(problems)
    result = IngestResult()
    with transaction.atomic():
        by_mrn, by_source = _patients_resolve(notes=notes, patients=patients, result=result, problems=problems)
        # Pass 1: validate, find each record's patient, drop repeats within the batch.
        planned: list[tuple[NoteRecord, Patient, str]] = []
        batch_by_source: dict[tuple[int, str], str] = {}
        for record in notes:
            record_problems: list[str] = []
            patient = by_mrn.get(record.mrn) if record.mrn.strip() else by_source.get(record.patient_source_id)
            if patient is None and (record.mrn.strip() or record.patient_source_id):
                record_problems.append(
                    f"unknown patient MRN {record.mrn!r}"
                    if record.mrn.strip()
                    else f"unknown patient {record.patient_source_id!r} (not in this file or bundle, nor stored)"
                )
            if record_problems:
                problems.extend((record.line, p) for p in record_problems)
                continue
            assert patient is not None  # a record without MRN or patient id is one of its problems
            digest = note_content_hash(record.text)
            if record.source_id:
                earlier = batch_by_source.get((patient.pk, record.source_id))
                if earlier is not None and earlier != digest:
                    problems.append(
                        (record.line, f"note {record.source_id!r} appears twice in this batch with different text")
                    )
                    continue
                batch_by_source[(patient.pk, record.source_id)] = digest
            planned.append((record, patient, digest))
        if problems:
            transaction.set_rollback(True)
            raise IngestError(problems)
        forbidden = _notes_write(planned, result=result, problems=problems, origin=origin)
        if problems:
            transaction.set_rollback(True)
            raise IngestError(problems, forbidden=forbidden)
        note_ids = list(result.note_ids)
        if enqueue and note_ids:
            transaction.on_commit(lambda: notes_embed_enqueue(note_ids=note_ids))
    logger.info(
        "ingest committed: %d new notes, %d amended, %d unchanged, %d new patients",
        result.notes_new,
        result.notes_amended,
        result.notes_unchanged,
        result.patients_new,
    )
    return result


def _patients_resolve(*, notes, patients, result: IngestResult, problems: list) -> tuple[dict, dict]:
    """Create new patients, check known ones; returns patients by MRN and by upstream id."""
    by_mrn: dict[str, Patient] = {
        p.mrn: p for p in Patient.objects.filter(mrn__in={r.mrn for r in [*patients, *notes] if r.mrn})
    }
    wanted_sources = {r.source_id for r in patients if r.source_id} | {
        r.patient_source_id for r in notes if r.patient_source_id
    }
    by_source: dict[str, Patient] = {p.source_id: p for p in Patient.objects.filter(source_id__in=wanted_sources)}
    for record in patients:
        where = record.line
        existing = by_mrn.get(record.mrn)
        if record.source_id and record.source_id in by_source and by_source[record.source_id].mrn != record.mrn:
            problems.append(
                (
                    where,
                    f"patient {record.mrn}: upstream id {record.source_id!r} belongs to a stored patient "
                    "with another MRN",
                )
            )
            continue
        if existing is None:
            patient = Patient.objects.create(
                mrn=record.mrn,
                family_name=record.family_name,
                given_name=record.given_name,
                birth_date=record.birth_date,
                sex=record.sex or Sex.UNKNOWN,
                unit=record.unit,
                source_id=record.source_id[:200],
            )
            by_mrn[record.mrn] = patient
            result.patients_new += 1
            result.patient_outcomes.append(("created", patient.pk))
        else:
            conflicts = _patient_conflicts(existing, record)
            if conflicts:
                problems.append((where, f"patient {record.mrn}: {', '.join(conflicts)} differ from the stored record"))
                continue
            if record.source_id and not existing.source_id:
                existing.source_id = record.source_id[:200]
                existing.save(update_fields=["source_id"])
            result.patient_outcomes.append(("unchanged", existing.pk))
            patient = existing
        if record.source_id:
            by_source[record.source_id] = patient
    return by_mrn, by_source


def _notes_write(
    planned: list[tuple[NoteRecord, Patient, str]], *, result: IngestResult, problems: list, origin: str
) -> bool:
    """Writes the batch; returns True when a record tried to amend a note its origin does not own."""
    forbidden = False
    patient_ids = {p.pk for _, p, _ in planned}
    stored_by_source = {
        (n.patient_id, n.source_id): n
        for n in Note.objects.filter(
            patient_id__in=patient_ids, source_id__in={r.source_id for r, _, _ in planned if r.source_id}
        ).only("id", "patient_id", "source_id", "content_hash", "origin")
    }
    stored_by_hash = {
        (patient_id, digest): note_id
        for note_id, patient_id, digest in Note.objects.filter(
            patient_id__in=patient_ids, content_hash__in={d for _, _, d in planned}
        ).values_list("id", "patient_id", "content_hash")
    }
    fresh: list[Note] = []
    batch_hashes: dict[tuple[int, str], Note] = {}  # (patient, hash) -> the new note of this batch with it
    amended: list[int] = []
    outcomes: list[tuple[str, int | Note]] = []  # a Note until bulk_create gives it an id
    for record, patient, digest in planned:
        stored = stored_by_source.get((patient.pk, record.source_id)) if record.source_id else None
        if stored is not None:
            if stored.content_hash == digest:
                outcomes.append(("unchanged", stored.pk))
                continue
            if stored.origin == NOTE_ORIGIN_DRAFT or stored.origin != origin:
                owner = "a signed ClinSum draft" if stored.origin == NOTE_ORIGIN_DRAFT else "another source"
                problems.append(
                    (
                        record.line,
                        f"note {record.source_id[:80]!r} was created by {owner}; only its own source may amend it",
                    )
                )
                forbidden = True
                continue
            holder = stored_by_hash.get((patient.pk, digest)) or batch_hashes.get((patient.pk, digest))
            if holder is not None and holder != stored.pk:
                problems.append(
                    (
                        record.line,
                        f"amended note {record.source_id!r} has the same text as another note of this patient",
                    )
                )
                continue
            old = Note.objects.only("text", "content_hash", "title", "note_type", "author", "authored_at").get(
                pk=stored.pk
            )
            NoteVersion.objects.create(
                note_id=stored.pk,
                text=old.text,
                content_hash=old.content_hash,
                title=old.title,
                note_type=old.note_type,
                author=old.author,
                authored_at=old.authored_at,
                replaced_by=origin,
            )
            Note.objects.filter(pk=stored.pk).update(
                text=record.text,
                content_hash=digest,
                embedding_status=EmbeddingStatus.PENDING,
                embedding_queued_at=timezone.now(),
                embedding_tries=0,
                **_note_fields(record),
            )
            Chunk.objects.filter(note_id=stored.pk).delete()
            stored_by_hash.pop((patient.pk, stored.content_hash), None)
            stored_by_hash[(patient.pk, digest)] = stored.pk
            stored.content_hash = digest
            amended.append(stored.pk)
            outcomes.append(("amended", stored.pk))
            continue
        # The same text stored already (under another or no upstream id), or earlier in this batch.
        holder = stored_by_hash.get((patient.pk, digest)) or batch_hashes.get((patient.pk, digest))
        if holder is not None:
            outcomes.append(("unchanged", holder))
            continue
        note = Note(
            patient=patient,
            text=record.text,
            content_hash=digest,
            source_id=record.source_id,
            origin=origin,
            **_note_fields(record),
        )
        batch_hashes[(patient.pk, digest)] = note
        fresh.append(note)
        outcomes.append(("created", note))
    if problems:
        return forbidden
    created = Note.objects.bulk_create(fresh, batch_size=500)  # PostgreSQL returns the ids
    result.outcomes = [(kind, ref.pk if isinstance(ref, Note) else ref) for kind, ref in outcomes]
    result.notes_new = len(created)
    result.notes_amended = len(amended)
    result.notes_unchanged = sum(1 for kind, _ in result.outcomes if kind == "unchanged")
    result.note_ids = [n.pk for n in created] + amended
    result.patient_ids = sorted({p.pk for _, p, _ in planned})
    return False


def notes_embed_enqueue(*, note_ids: list[int], batch: int = EMBED_BATCH) -> bool:
    """Queue the notes for embedding, `batch` notes per task; False when the job queue is down.
    The notes are committed and stay pending either way: notes_embedding_recover queues them
    again later."""
    from .tasks import notes_embed

    try:
        for start in range(0, len(note_ids), batch):
            notes_embed.delay(note_ids[start : start + batch])
    except BrokerError as exc:
        logger.warning("%d notes not queued for embedding (job queue down: %s); recovery will", len(note_ids), exc)
        return False
    return True


def notes_embedding_recover(*, now: datetime | None = None) -> int:
    """Queue again the notes whose embedding has been pending longer than CLINSUM_RECOVER_AFTER_S
    (a task lost to a database or broker outage, a note committed while the queue was down).
    Embedding only pending notes is idempotent, so a note queued twice is indexed once. Returns
    how many notes were queued.

    Each queueing counts in Note.embedding_tries. A note queued CLINSUM_EMBED_MAX_TRIES times and
    still pending (one that crashes the embedder or its worker) is marked failed instead of being
    queued for ever: the chart says it is not indexed and `manage.py reembed --failed` tries it
    again. A note queued before goes one per task, so a poison note fails alone and does not take
    the notes of its batch down with it."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CLINSUM_RECOVER_AFTER_S)
    max_tries = settings.CLINSUM_EMBED_MAX_TRIES
    stale = Note.objects.filter(embedding_status=EmbeddingStatus.PENDING, embedding_queued_at__lt=cutoff)
    given_up = list(
        stale.filter(embedding_tries__gte=max_tries).order_by("pk").values_list("pk", flat=True)[:RECOVER_NOTES_MAX]
    )
    if given_up:
        Note.objects.filter(pk__in=given_up, embedding_status=EmbeddingStatus.PENDING).update(
            embedding_status=EmbeddingStatus.FAILED
        )
        shown = ", ".join(str(pk) for pk in given_up[:50])
        more = f" and {len(given_up) - 50} more" if len(given_up) > 50 else ""
        logger.warning(
            "embedding failed %d times for notes %s%s: marked failed (manage.py reembed --failed tries again)",
            max_tries,
            shown,
            more,
        )
    rows = list(
        stale.filter(embedding_tries__lt=max_tries)
        .order_by("pk")
        .values_list("pk", "embedding_tries")[:RECOVER_NOTES_MAX]
    )
    first = [pk for pk, tries in rows if tries == 0]
    again = [pk for pk, tries in rows if tries > 0]
    queued: list[int] = []
    for note_ids, batch in ((first, EMBED_BATCH), (again, 1)):
        if note_ids and notes_embed_enqueue(note_ids=note_ids, batch=batch):
            queued += note_ids
    if not queued:
        return 0
    Note.objects.filter(pk__in=queued, embedding_status=EmbeddingStatus.PENDING).update(
        embedding_queued_at=now, embedding_tries=F("embedding_tries") + 1
    )
    logger.info("recovery queued %d notes for embedding again", len(queued))
    return len(queued)


def service_token_create(*, name: str) -> tuple[ServiceToken, str]:
    """A new service-account token; returns (row, token). Only the token's SHA-256 is stored,
    so the token is shown once, now."""
    token = secrets.token_urlsafe(32)
    row = ServiceToken.objects.create(name=name, token_hash=service_token_hash(token))
    logger.info("service token %s created", row.pk)
    return row, token


def service_token_revoke(*, name: str) -> ServiceToken:
    """Deactivate the named token at once (rotation: create the new one, switch the client,
    then revoke the old). The row stays, so the audit trail's token ids keep their meaning."""
    row = ServiceToken.objects.filter(name=name).first()
    if row is None:
        raise ServiceToken.DoesNotExist(f"no service token named {name!r}")
    ServiceToken.objects.filter(pk=row.pk).update(active=False)
    row.refresh_from_db()
    logger.info("service token %s revoked", row.pk)
    return row


def service_token_authenticate(*, token: str) -> ServiceToken | None:
    """The active service token with this value, or None (the lookup is by hash)."""
    if not token or len(token) > 200:
        return None
    row = ServiceToken.objects.filter(token_hash=service_token_hash(token), active=True).first()
    if row is not None:
        ServiceToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row
