"""Reads of summaries, with the chart access rule applied through the patient."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Count, Model, Prefetch
from django.http import Http404

from clinsum.access.selectors import patient_get_for_user, readable_patients
from clinsum.audit.selectors import audit_reader_check

from .changes import SectionChanges, claims_compare
from .models import HIDDEN_VERDICTS, Citation, Claim, ModelCall, Summary, SummaryStatus
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


def patients_with_fresh_summary(*, user, patient_ids: list[int]) -> set[int]:
    """Of these patients, those the user may read who have a finished summary of the chart as
    it is now: its fingerprint is the one summary_is_stale compares with (the same notes,
    backend, model and prompt). One query for the note sets, one for the summaries."""
    readable = set(readable_patients(user=user).filter(pk__in=patient_ids).values_list("pk", flat=True))
    if not readable:
        return set()
    with connection.cursor() as cursor:
        # The SQL twin of services.patient_note_set_hash, for many patients at once.
        cursor.execute(
            """SELECT patient_id, string_agg(content_hash, E'\\n' ORDER BY content_hash)
               FROM charts_note WHERE patient_id = ANY(%s) GROUP BY patient_id""",
            [sorted(readable)],
        )
        joined = dict(cursor.fetchall())
    wanted = {pid: summary_fingerprint(patient_id=pid, note_hashes=joined.get(pid, "")) for pid in readable}
    done = Summary.objects.filter(
        patient_id__in=readable, status=SummaryStatus.DONE, fingerprint__in=set(wanted.values())
    ).values_list("patient_id", "fingerprint")
    return {pid for pid, fingerprint in done if wanted[pid] == fingerprint}


def _claims_cited(summary: Summary):
    """The summary's claims, in order, citations (with their note, text deferred) prefetched."""
    return summary.claims.prefetch_related(
        Prefetch(
            "citations",
            queryset=Citation.objects.select_related("note").only(
                "id",
                "claim_id",
                "source_id",
                "char_start",
                "char_end",
                "found",
                "newer",
                "note__id",
                "note__note_type",
                "note__authored_at",
                "note__author",
                "note__author_role",
                "note__title",
            ),
        )
    )


def summary_sections(*, summary: Summary) -> list[dict]:
    """Claims grouped by section, in section order, citations (with note) prefetched."""
    claims = _claims_cited(summary)
    by_section: dict[str, list[Claim]] = {}
    for claim in claims:
        by_section.setdefault(claim.section, []).append(claim)
    # Unsupported and out-of-date claims are never shown as fact: they sit apart, behind a
    # visible control, each with its reason (and, when out of date, the newer note cited).
    return [
        {
            "key": s.key,
            "title": s.title,
            "claims": [
                c for c in by_section.get(s.key, []) if c.verdict not in HIDDEN_VERDICTS and not c.possibly_missing
            ],
            "possibly_missing": [
                c for c in by_section.get(s.key, []) if c.verdict not in HIDDEN_VERDICTS and c.possibly_missing
            ],
            "unverified": [c for c in by_section.get(s.key, []) if c.verdict in HIDDEN_VERDICTS],
        }
        for s in SUMMARY_SECTIONS
    ]


def summary_source_notes(*, summary: Summary) -> list:
    """The notes the summary was generated from, newest first, as the chart lists notes (text
    deferred). Only this patient's notes, whatever the list says."""
    from clinsum.charts.models import Note

    ids = [i for i in summary.source_note_ids or [] if isinstance(i, int)]
    notes = Note.objects.filter(pk__in=ids, patient_id=summary.patient_id).defer("text").in_bulk()
    return sorted((notes[i] for i in ids if i in notes), key=lambda n: (n.authored_at, n.pk), reverse=True)


PAST_SUMMARIES_SHOWN = 50


def summaries_for_patient(*, user, patient) -> list[Summary]:
    """Every summary of the patient, newest first, with who asked (for chart readers only)."""
    patient_get_for_user(user=user, patient_id=patient.pk)
    return list(
        Summary.objects.filter(patient=patient)
        .select_related("requested_by")
        .only("id", "patient_id", "status", "created_at", "finished_at", "n_claims", "requested_by")
        .order_by("-created_at", "-id")[:PAST_SUMMARIES_SHOWN]
    )


def summary_baseline_for_user(*, user, summary: Summary) -> Summary | None:
    """What `user` last looked at before `summary`: their newest finished summary of the same
    patient made before it, or None (their first, or `summary` is not done)."""
    if summary.status != SummaryStatus.DONE or not user.is_authenticated:
        return None
    return (
        Summary.objects.filter(
            patient_id=summary.patient_id,
            requested_by=user,
            status=SummaryStatus.DONE,
            created_at__lt=summary.created_at,
        )
        .exclude(pk=summary.pk)
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class SummaryChanges:
    baseline: Summary
    sections: list[SectionChanges]


def summary_changes_for_user(*, user, summary: Summary) -> SummaryChanges | None:
    """What is new, changed or gone in `summary` compared with the user's previous summary of
    the patient (changes.py), each claim with its citations; None when there is no previous one.
    Claims never shown as fact (unsupported, out of date) are not compared."""
    baseline = summary_baseline_for_user(user=user, summary=summary)
    if baseline is None:
        return None
    patient_get_for_user(user=user, patient_id=summary.patient_id)

    def shown(s: Summary) -> list[Claim]:
        return [c for c in _claims_cited(s) if c.verdict not in HIDDEN_VERDICTS]

    sections = [(s.key, s.title) for s in SUMMARY_SECTIONS]
    return SummaryChanges(baseline, claims_compare(shown(baseline), shown(summary), sections))


def summary_notes_since(*, summary: Summary) -> int:
    """How many notes of the patient arrived (were stored) after the summary was asked for."""
    from clinsum.charts.models import Note

    return Note.objects.filter(patient_id=summary.patient_id, created_at__gt=summary.created_at).count()


def summary_panel_extras(*, user, summary: Summary) -> dict:
    """What a finished summary's panel shows besides its claims: the changes since the user's
    previous summary, how many notes arrived since, and the patient's past summaries."""
    if summary.status != SummaryStatus.DONE:
        return {}
    return {
        "changes": summary_changes_for_user(user=user, summary=summary),
        "notes_since": summary_notes_since(summary=summary),
        "past_summaries": summaries_for_patient(user=user, patient=summary.patient),
    }


@dataclass(frozen=True)
class Footnote:
    number: int
    note: Any  # charts.Note, text deferred


def summary_print_sections(*, summary: Summary) -> tuple[list[dict], list[Footnote]]:
    """The summary's sections as printed: each shown claim gets `footnotes` (numbers), and the
    footnotes are the cited notes, numbered in the order they are first cited. The newer notes
    the verifier cites against out-of-date claims are not sources of a printed claim."""
    sections = summary_sections(summary=summary)
    by_note: dict[int, Footnote] = {}
    for section in sections:
        for claim in section["claims"] + section["possibly_missing"]:
            numbers = []
            for citation in claim.citations.all():
                if citation.newer:
                    continue
                if citation.note_id not in by_note:
                    by_note[citation.note_id] = Footnote(len(by_note) + 1, citation.note)
                if by_note[citation.note_id].number not in numbers:
                    numbers.append(by_note[citation.note_id].number)
            claim.footnotes = numbers
    return sections, list(by_note.values())


def citation_get_for_user(*, user, citation_id: int) -> Citation:
    citation = Citation.objects.filter(pk=citation_id).select_related("claim__summary").first()
    if citation is None:
        raise Http404("No such citation.")
    patient_get_for_user(user=user, patient_id=citation.claim.summary.patient_id)
    if citation.note.patient_id != citation.claim.summary.patient_id:
        raise Http404("No such citation.")  # never show another patient's note through a citation
    return citation


# --- The record of model calls: privacy officers only (the check is in every selector) ---------

_OWNERS = {"summary": ("summaries", "Summary"), "draft": ("drafting", "Draft")}


def _owner_model(kind: str) -> Any:  # the Summary or Draft model class
    return apps.get_model(*_OWNERS[kind])


@dataclass(frozen=True)
class CallShown:
    """One ModelCall as the review page shows it: the request's messages and its other
    parameters apart, and besides the raw answer, a chat completion's content decoded."""

    call: ModelCall
    messages: list
    parameters: str  # the request without its messages, as indented JSON
    content: str | None


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _answer_content(answer: dict) -> str | None:
    """choices[0].message.content of a chat completion, or None (an error body, garbage)."""
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def _call_shown(call: ModelCall) -> CallShown:
    request = _json_object(call.request_body)
    messages = request.pop("messages", [])
    return CallShown(
        call,
        messages if isinstance(messages, list) else [],
        json.dumps(request, indent=2, ensure_ascii=False) if request else "",
        _answer_content(_json_object(call.response_body)),
    )


def model_calls_for_reader(*, user, kind: str, object_id: int) -> tuple[Model, list[CallShown]]:
    """A summary's or draft's (`kind`) recorded model calls, in order, for a privacy officer."""
    audit_reader_check(user=user)
    owner = _owner_model(kind).objects.filter(pk=object_id).first()
    if owner is None:
        raise Http404(f"No such {kind}.")
    return owner, [_call_shown(call) for call in ModelCall.objects.filter(**{kind: owner})]


def model_call_owners_for_reader(*, user, patient_id: int) -> dict[str, list[Model]]:
    """A patient's summaries and drafts, newest first, each with `n_calls` recorded (no text)."""
    audit_reader_check(user=user)
    return {
        kind: list(
            _owner_model(kind)
            .objects.filter(patient_id=patient_id)
            .annotate(n_calls=Count("model_calls"))
            .order_by("-created_at", "-id")
        )
        for kind in _OWNERS
    }
