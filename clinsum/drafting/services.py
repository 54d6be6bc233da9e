"""Drafts: create (web), generate (worker), edit (autosave), sign (-> a Note), discard.

Generation is the grounded-generation job (clinsum/summaries/generation/jobs.py) with the draft kind's
sections and prompt (jobs.DRAFT_JOB): retrieval of this patient's chunks per section, a
backend, and claim_verify on every sentence.
"""

from __future__ import annotations

import difflib
import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clinsum.charts.models import NOTE_ORIGIN_DRAFT, Note
from clinsum.charts.records import NoteRecord
from clinsum.charts.services import notes_ingest
from clinsum.summaries.generation.calls import backend_identity
from clinsum.summaries.generation.jobs import job_run
from clinsum.summaries.generation.recovery import job_send, jobs_recover

from .jobs import DRAFT_JOB
from .kinds import DraftKind, draft_kind
from .models import Draft, DraftSentence, DraftStatus, Origin
from .selectors import draft_unresolved, drafting_check

logger = logging.getLogger(__name__)

SECTION_MAX_CHARS = 4000
SECTION_MAX_LINES = 40


class DraftError(Exception):
    """A request the draft cannot take in its state; the message is shown to the nurse."""


class DraftConflict(DraftError):
    """The edit was based on an older revision (another tab, a stale page)."""


def draft_create(*, patient, user, kind_key: str) -> Draft:
    drafting_check(user=user)
    kind = draft_kind(kind_key)
    backend, model, prompt_version = backend_identity(prompt=kind.prompt)
    with transaction.atomic():
        draft = Draft.objects.create(
            patient=patient, author=user, kind=kind.key, backend=backend, model=model, prompt_version=prompt_version
        )
        transaction.on_commit(lambda: draft_enqueue(draft=draft))
    return draft


def _draft_send(draft_id: int) -> None:
    from .tasks import draft_generate

    draft_generate.delay(draft_id)


def draft_enqueue(*, draft: Draft) -> bool:
    """Send the draft's task; False (the row stays queued, unsent) when the job queue is down:
    recovery (clinsum/summaries/generation/recovery.py) sends it when the queue is back."""
    return job_send(DRAFT_JOB, job=draft, send=_draft_send)


def drafts_recover() -> int:
    """The recovery round for drafts (clinsum/recovery.py)."""
    return jobs_recover(DRAFT_JOB, send=_draft_send)


def draft_retry(*, draft: Draft, user) -> Draft:
    """A failed draft is made again as a new draft of the same kind; the failure stays on record."""
    if draft.status != DraftStatus.FAILED:
        raise DraftError("Only a failed draft can be tried again.")
    return draft_create(patient=draft.patient, user=user, kind_key=draft.kind)


def draft_run(*, draft_id: int) -> None:
    """Worker side. Raises only retryable GenerationErrors; otherwise ends ready or failed."""
    job_run(DRAFT_JOB, job_id=draft_id)


def _normalise(line: str) -> str:
    return " ".join(line.split())


def _lines(text: str) -> list[str]:
    lines = [_normalise(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return [line for line in lines if line]


def draft_section_save(*, draft: Draft, user, section: str, text: str, revision: int) -> Draft:
    """Replace a section's sentences with the nurse's text, one statement per line.

    Lines equal to an existing sentence keep it (its citations and verdict); changed lines
    become "edited", new lines "added" (written by the nurse, no citations). Aligned with
    difflib so a moved or repeated sentence is judged by position, as a reader would."""
    kind = draft_kind(draft.kind)
    if section not in {s.key for s in kind.sections}:
        raise DraftError("No such section in this draft.")
    if len(text) > SECTION_MAX_CHARS:
        raise DraftError(f"A section holds at most {SECTION_MAX_CHARS:,} characters; this one has {len(text):,}.")
    new_lines = _lines(text)
    if len(new_lines) > SECTION_MAX_LINES:
        raise DraftError(f"A section holds at most {SECTION_MAX_LINES} statements.")
    with transaction.atomic():
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        if locked.author_id != user.pk:
            raise PermissionDenied("Only the draft's author edits it.")
        if not locked.is_editable():
            raise DraftError(f"This draft is {locked.get_status_display().lower()} and can no longer be edited.")
        if revision != locked.revision:
            raise DraftConflict(
                "This draft was changed in another window since you opened it. "
                "Reload the page to see the latest text; your last change was not saved."
            )
        old = list(locked.sentences.filter(section=section).order_by("ordinal"))
        matcher = difflib.SequenceMatcher(a=[_normalise(s.text) for s in old], b=new_lines, autojunk=False)
        keep: list[tuple[DraftSentence | None, str, str]] = []  # (existing sentence, text, origin)
        for op, a0, _a1, b0, b1 in matcher.get_opcodes():
            if op == "equal":
                keep.extend((old[a0 + i], new_lines[b0 + i], "") for i in range(b1 - b0))
            else:
                added = Origin.EDITED if op == "replace" else Origin.ADDED
                keep.extend((None, line, added) for line in new_lines[b0:b1])
        kept_ids = {s.pk for s, _, _ in keep if s is not None}
        locked.sentences.filter(section=section).exclude(pk__in=kept_ids).delete()
        for ordinal, (sentence, line, origin) in enumerate(keep):
            if sentence is not None:
                if sentence.ordinal != ordinal:
                    DraftSentence.objects.filter(pk=sentence.pk).update(ordinal=ordinal)
            else:
                DraftSentence.objects.create(draft=locked, section=section, ordinal=ordinal, text=line, origin=origin)
        locked.revision = F("revision") + 1
        locked.save(update_fields=["revision", "updated_at"])
        locked.refresh_from_db()
    return locked


def _provenance(*, user, signed_at) -> str:
    local = timezone.localtime(signed_at)
    who = user.get_full_name() or user.username
    return (
        f"Drafted with ClinSum, reviewed and signed by {who} ({user.get_role_display().lower()}) "
        f"at {local:%Y-%m-%d %H:%M %Z}."
    )


def draft_note_text(*, draft: Draft, kind: DraftKind, provenance: str) -> str:
    by_section: dict[str, list[str]] = {}
    for section_key, text in draft.sentences.order_by("ordinal").values_list("section", "text"):
        by_section.setdefault(section_key, []).append(text)
    parts = [kind.title.upper(), ""]
    for section in kind.sections:
        lines = by_section.get(section.key)
        if lines:
            parts += [f"{section.title.upper()}:", *lines, ""]
    parts.append(provenance)
    return "\n".join(parts)


def draft_sign(*, draft: Draft, user) -> Note:
    """The author turns the draft into a Note of the kind's type (author = the nurse,
    provenance in its text), ingested and indexed like any other; the draft becomes
    read-only. The web door has the author re-enter the password first (views.password_reconfirm)."""
    drafting_check(user=user)
    if draft.author_id != user.pk:
        raise PermissionDenied("Only the draft's author signs it.")
    kind = draft_kind(draft.kind)
    with transaction.atomic():
        locked = Draft.objects.select_for_update().select_related("patient").get(pk=draft.pk)
        if locked.status == DraftStatus.SIGNED:
            raise DraftError("This draft is already signed.")
        if not locked.is_editable():
            raise DraftError(f"A draft that is {locked.get_status_display().lower()} cannot be signed.")
        unresolved = draft_unresolved(draft=locked)
        if unresolved:
            many = unresolved != 1
            raise DraftError(
                f"{unresolved} drafted sentence{'s' if many else ''} could not be verified against "
                f"the chart: edit or delete {'them' if many else 'it'} before signing."
            )
        if not locked.sentences.exists():
            raise DraftError("The draft is empty: write at least one statement before signing.")
        signed_at = timezone.now()
        text = draft_note_text(draft=locked, kind=kind, provenance=_provenance(user=user, signed_at=signed_at))
        record = NoteRecord(
            mrn=locked.patient.mrn,
            note_type=kind.note_type,
            authored_at=signed_at,
            text=text,
            author=user.get_full_name() or user.get_username(),
            author_role=user.get_role_display(),
            title=f"{kind.title} (signed draft)",
            source=f"clinsum draft {locked.pk}",
            source_id=f"clinsum-draft-{locked.pk}",
        )
        result = notes_ingest(notes=[record], origin=NOTE_ORIGIN_DRAFT)  # embedded once this commits
        note = Note.objects.get(pk=result.note_ids[0])
        Draft.objects.filter(pk=locked.pk).update(status=DraftStatus.SIGNED, signed_at=signed_at, signed_note=note)
    logger.info("draft %s signed as note %s", draft.pk, note.pk)
    return note


def draft_discard(*, draft: Draft, user) -> None:
    """The author drops an unsigned draft. Signed drafts are the provenance of their note."""
    if draft.author_id != user.pk:
        raise PermissionDenied("Only the draft's author discards it.")
    with transaction.atomic():
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        if locked.status == DraftStatus.SIGNED:
            raise DraftError("A signed draft is part of the record and cannot be discarded.")
        if locked.status in (DraftStatus.QUEUED, DraftStatus.RUNNING):
            raise DraftError("The draft is still being written; discard it when it is ready.")
        locked.delete()
