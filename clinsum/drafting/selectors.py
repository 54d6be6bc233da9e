"""Reads of drafts. A draft is its author's working copy: only the author opens it, and only
while the patient is in the author's scope (the chart rule applies through the patient)."""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from clinsum.access.selectors import patient_get_for_user, readable_patients
from clinsum.accounts.models import Role
from clinsum.summaries.models import HIDDEN_VERDICTS  # generated sentences to edit before signing

from .kinds import DraftKind, draft_kind
from .models import Draft, DraftCitation, DraftSentence, DraftStatus
from .plain_language import jargon_unexplained


def drafting_check(*, user) -> None:
    """Nurses draft. Clinicians write their own notes in the EHR and read ClinSum's cited
    summaries; the kinds here are nursing documents, signed under nursing scope."""
    if not (user.is_authenticated and user.is_active and user.role == Role.NURSE):
        raise PermissionDenied("Drafting documentation is for nurses.")


def draft_get_for_author(*, user, draft_id: int) -> Draft:
    drafting_check(user=user)
    draft = Draft.objects.filter(pk=draft_id).only("id", "patient_id", "author_id").first()
    if draft is None:
        raise Http404("No such draft.")
    patient_get_for_user(user=user, patient_id=draft.patient_id)  # 403 outside the nurse's scope
    if draft.author_id != user.pk:
        raise PermissionDenied("This draft belongs to another nurse; only its author opens, edits or signs it.")
    return Draft.objects.select_related("patient", "author", "signed_note").get(pk=draft_id)


def draft_citation_get_for_author(*, user, draft_citation_id: int) -> DraftCitation:
    citation = DraftCitation.objects.filter(pk=draft_citation_id).select_related("sentence").first()
    if citation is None:
        raise Http404("No such citation.")
    draft = draft_get_for_author(user=user, draft_id=citation.sentence.draft_id)
    if citation.note.patient_id != draft.patient_id:
        raise Http404("No such citation.")  # never another patient's note through a citation
    return citation


def drafts_for_author(*, user, patient=None) -> QuerySet[Draft]:
    """The nurse's drafts, newest first, for patients still in scope."""
    drafting_check(user=user)
    if patient is not None:
        patient_get_for_user(user=user, patient_id=patient.pk)
        drafts = Draft.objects.filter(author=user, patient=patient)
    else:
        drafts = Draft.objects.filter(author=user, patient__in=readable_patients(user=user))
    return drafts.select_related("patient").order_by("-created_at", "-id")


def draft_unsigned_of_kind(*, user, patient, kind_key: str) -> Draft | None:
    """The nurse's newest unsigned draft (queued, drafting or ready) of this kind for this
    patient: opening "Draft ..." again leads to it rather than to a duplicate."""
    drafting_check(user=user)
    return (
        Draft.objects.filter(
            author=user,
            patient=patient,
            kind=kind_key,
            status__in=(DraftStatus.QUEUED, DraftStatus.RUNNING, DraftStatus.READY),
        )
        .order_by("-created_at", "-id")
        .first()
    )


def draft_sentences(*, draft: Draft, sections: Collection[str] | None = None) -> list[DraftSentence]:
    rows = draft.sentences.all() if sections is None else draft.sentences.filter(section__in=sections)
    return list(
        rows.order_by("section", "ordinal").prefetch_related(
            Prefetch(
                "citations",
                queryset=DraftCitation.objects.select_related("note").only(
                    "id",
                    "sentence_id",
                    "source_id",
                    "char_start",
                    "char_end",
                    "found",
                    "note__id",
                    "note__note_type",
                    "note__authored_at",
                    "note__title",
                ),
            )
        )
    )


def draft_sections(*, draft: Draft, kind: DraftKind | None = None, only: str | None = None) -> list[dict]:
    """Sentences grouped by the kind's sections, in template order, with the text a nurse
    edits (one statement per line) and the plain-language findings for patient-facing kinds.
    `only`: just that section (an autosave answers with the one section it saved)."""
    kind = kind or draft_kind(draft.kind)
    by_section: dict[str, list[DraftSentence]] = {}
    for sentence in draft_sentences(draft=draft, sections=None if only is None else [only]):
        by_section.setdefault(sentence.section, []).append(sentence)
    sections = []
    for section in kind.sections:
        if only is not None and section.key != only:
            continue
        sentences = by_section.get(section.key, [])
        text = "\n".join(s.text for s in sentences)
        sections.append(
            {
                "key": section.key,
                "title": section.title,
                "sentences": sentences,
                "text": text,
                "jargon": jargon_unexplained(text) if kind.patient_facing else [],
            }
        )
    return sections


def draft_unresolved(*, draft: Draft) -> int:
    """Generated sentences the verifier could not support and the nurse has not changed."""
    return draft.sentences.filter(origin="generated", verdict__in=HIDDEN_VERDICTS).count()


def draft_older_than_chart(*, draft: Draft) -> list[dict]:
    """Drafted statements whose cited note is older than the newest note on the same subject
    (a drug it names): the nurse checks them against the newer note before signing. The
    verifier already blocks a dose or stop it can read as contradicted (out of date); this warns
    about any newer word on the subject."""
    from clinsum.charts.models import Note
    from retrieval.clinical.drugs import drug_mentions

    sentences = [
        s
        for s in draft.sentences.filter(origin="generated").prefetch_related(
            Prefetch(
                "citations",
                queryset=DraftCitation.objects.select_related("note").only(
                    "id", "sentence_id", "note__id", "note__authored_at"
                ),
            )
        )
        if s.citations.all()
    ]
    if not sentences:
        return []
    oldest = min(c.note.authored_at for s in sentences for c in s.citations.all())
    # One read of the notes that could be newer, newest first; matched in Python per sentence.
    newer_notes = list(
        Note.objects.filter(patient_id=draft.patient_id, authored_at__gt=oldest)
        .only("id", "note_type", "authored_at", "title", "text")
        .order_by("-authored_at")
    )
    warnings = []
    for sentence in sentences:
        cited = max(c.note.authored_at for c in sentence.citations.all())
        for mention in drug_mentions(sentence.text):
            surface = sentence.text[mention.start : mention.end].lower()
            newer = next((n for n in newer_notes if n.authored_at > cited and surface in n.text.lower()), None)
            if newer is not None:
                warnings.append(
                    {"sentence": sentence, "subject": sentence.text[mention.start : mention.end], "note": newer}
                )
                break
    return warnings
