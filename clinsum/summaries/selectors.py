"""Reads of summaries, with the chart access rule applied through the patient."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404

from clinsum.charts.selectors import patient_get_for_user

from .models import HIDDEN_VERDICTS, Citation, Claim, Summary
from .sections import SUMMARY_SECTIONS
from .services import summary_fingerprint


def summary_get_for_user(*, user, summary_id: int) -> Summary:
    summary = Summary.objects.filter(pk=summary_id).only("id", "patient_id").first()
    if summary is None:
        raise Http404("No such summary.")
    patient_get_for_user(user=user, patient_id=summary.patient_id)
    return Summary.objects.select_related("patient").get(pk=summary_id)


def summary_latest_for_patient(*, user, patient) -> Summary | None:
    patient_get_for_user(user=user, patient_id=patient.pk)
    return Summary.objects.filter(patient=patient).order_by("-created_at", "-id").first()


def summary_is_stale(*, summary: Summary) -> bool:
    """Notes, backend, model or prompt changed since the summary was made."""
    return summary.fingerprint != summary_fingerprint(patient_id=summary.patient_id)


def summary_sections(*, summary: Summary) -> list[dict]:
    """Claims grouped by section, in section order, citations (with note) prefetched."""
    claims = summary.claims.prefetch_related(
        Prefetch("citations", queryset=Citation.objects.select_related("note").only(
            "id", "claim_id", "source_id", "char_start", "char_end", "found", "newer",
            "note__id", "note__note_type", "note__authored_at", "note__title"))
    )
    by_section: dict[str, list[Claim]] = {}
    for claim in claims:
        by_section.setdefault(claim.section, []).append(claim)
    # Unsupported and out-of-date claims are never shown as fact: they sit apart, behind a
    # visible control, each with its reason (and, when out of date, the newer note cited).
    return [
        {
            "key": s.key,
            "title": s.title,
            "claims": [c for c in by_section.get(s.key, []) if c.verdict not in HIDDEN_VERDICTS
                       and not c.possibly_missing],
            "possibly_missing": [c for c in by_section.get(s.key, []) if c.verdict not in HIDDEN_VERDICTS
                                 and c.possibly_missing],
            "unverified": [c for c in by_section.get(s.key, []) if c.verdict in HIDDEN_VERDICTS],
        }
        for s in SUMMARY_SECTIONS
    ]


def summary_source_notes(*, summary: Summary) -> list:
    """The notes the summary was generated from, in source order (text deferred). Only this
    patient's notes, whatever the list says."""
    from clinsum.charts.models import Note

    ids = [i for i in summary.source_note_ids or [] if isinstance(i, int)]
    notes = Note.objects.filter(pk__in=ids, patient_id=summary.patient_id).defer("text").in_bulk()
    return [notes[i] for i in ids if i in notes]


def citation_get_for_user(*, user, citation_id: int) -> Citation:
    citation = Citation.objects.filter(pk=citation_id).select_related("claim__summary").first()
    if citation is None:
        raise Http404("No such citation.")
    patient_get_for_user(user=user, patient_id=citation.claim.summary.patient_id)
    if citation.note.patient_id != citation.claim.summary.patient_id:
        raise Http404("No such citation.")  # never show another patient's note through a citation
    return citation
