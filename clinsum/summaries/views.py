from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinsum.access.selectors import patient_get_for_user
from clinsum.access.views import cited_note_page
from clinsum.audit.services import audit_record

from .selectors import (
    citation_get_for_user,
    model_calls_for_reader,
    summary_get_for_user,
    summary_is_stale,
    summary_panel_extras,
    summary_print_sections,
    summary_sections,
    summary_source_notes,
)
from .services import summary_request, summary_retry


def _panel(request, summary, *, status: int = 200):
    context = {"summary": summary, "patient": summary.patient, "stale": summary_is_stale(summary=summary)}
    if summary.status == "done":
        context["sections"] = summary_sections(summary=summary)
        context["source_notes"] = summary_source_notes(summary=summary)
        context.update(summary_panel_extras(user=request.user, summary=summary))
        changes = context["changes"]
        audit_record(
            action="summary_view",
            request=request,
            patient_id=summary.patient_id,
            object_type="summary",
            object_id=summary.pk,
            # The changes show the earlier summary's claims too: the trail names it.
            reason=f"compared with summary {changes.baseline.pk}" if changes else "",
        )
    elif not request.htmx:  # the whole page shows the patient banner (name, MRN, birth date)
        audit_record(
            action="summary_view",
            request=request,
            patient_id=summary.patient_id,
            object_type="summary",
            object_id=summary.pk,
            outcome=summary.status,
        )
    template = "summaries/summary.html#summary-panel" if request.htmx else "summaries/summary.html"
    return render(request, template, context, status=status)


def _request_outcome(summary, *, created: bool) -> str:
    if summary.status == "queued" and summary.enqueued_at is None:
        return "queue_down"  # stored, not yet sent: recovery sends it when the queue is back
    return "ok" if created else "cached"


@login_required
@require_POST
def summary_create(request, patient_id: int):
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    summary, created = summary_request(patient=patient, user=request.user)
    audit_record(
        action="summary_request",
        request=request,
        patient_id=patient.pk,
        object_type="summary",
        object_id=summary.pk,
        outcome=_request_outcome(summary, created=created),
    )
    if request.htmx:
        return _panel(request, summary)
    return redirect(reverse("chart_detail", args=[patient.pk]) + "#summary")


@login_required
@require_POST
def summary_retry_view(request, summary_id: int):
    summary = summary_get_for_user(user=request.user, summary_id=summary_id)
    new = summary_retry(summary=summary, user=request.user)
    audit_record(
        action="summary_request",
        request=request,
        patient_id=summary.patient_id,
        object_type="summary",
        object_id=new.pk,
        outcome="queue_down" if _request_outcome(new, created=True) == "queue_down" else "retry",
    )
    if request.htmx:
        return _panel(request, new)
    return redirect(reverse("chart_detail", args=[summary.patient_id]) + "#summary")


@login_required
@require_GET
def summary_detail(request, summary_id: int):
    summary = summary_get_for_user(user=request.user, summary_id=summary_id)
    return _panel(request, summary)


@login_required
@require_GET
def summary_print(request, summary_id: int):
    """The printable summary: every claim with its sources as footnotes (note type, author,
    time), who printed it and when, and when it was verified against the chart. Audited as a
    view of the summary, reason "print"."""
    summary = summary_get_for_user(user=request.user, summary_id=summary_id)
    context = {"summary": summary, "patient": summary.patient, "printed_at": timezone.now()}
    if summary.status == "done":
        context["sections"], context["footnotes"] = summary_print_sections(summary=summary)
    audit_record(
        action="summary_view",
        request=request,
        patient_id=summary.patient_id,
        object_type="summary",
        object_id=summary.pk,
        reason="print",
        outcome="ok" if summary.status == "done" else summary.status,
    )
    return render(request, "summaries/summary_print.html", context)


@login_required
@require_GET
def citation_detail(request, citation_id: int):
    citation = citation_get_for_user(user=request.user, citation_id=citation_id)
    return cited_note_page(request, citation, reason=f"citation {citation.pk}")


def _model_calls(request, *, kind: str, object_id: int):
    """The record of a summary's or draft's model calls: the prompts and answers themselves
    (PHI), so each view is audited with the patient and the object."""
    owner, calls = model_calls_for_reader(user=request.user, kind=kind, object_id=object_id)
    audit_record(
        action="model_call_view",
        request=request,
        patient_id=owner.patient_id,
        object_type=kind,
        object_id=owner.pk,
        reason=f"{len(calls)} model calls",
    )
    return render(request, "audit/model_calls.html", {"kind": kind, "owner": owner, "calls": calls})


@login_required
@require_GET
def summary_model_calls(request, summary_id: int):
    return _model_calls(request, kind="summary", object_id=summary_id)


@login_required
@require_GET
def draft_model_calls(request, draft_id: int):
    return _model_calls(request, kind="draft", object_id=draft_id)
