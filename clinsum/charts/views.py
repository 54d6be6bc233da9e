from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from clinsum.audit.services import audit_record
from clinsum.summaries.selectors import (
    summary_is_stale,
    summary_latest_for_patient,
    summary_sections,
    summary_source_notes,
)

from .selectors import note_get_for_user, note_list_for_patient, patient_get_for_user, patient_list_for_user

PATIENT_LIST_MAX = 500  # a ward list, not the hospital


@login_required
@require_http_methods(["GET", "POST"])
def patient_list(request):
    """The patients of the user's unit and care teams. A search is POSTed, so a name or MRN never
    sits in a URL, and so in no access log, browser history or proxy log; a query string is ignored."""
    query = request.POST.get("q", "") if request.method == "POST" else ""
    if "\x00" in query:
        return HttpResponseBadRequest("The search contains a NUL character.")
    patients = list(patient_list_for_user(user=request.user, query=query)[:PATIENT_LIST_MAX])
    shown = ", ".join(str(p.pk) for p in patients[:50])
    audit_record(action="patient_list_view", request=request,
                 reason=f"{'search' if query.strip() else 'list'}; {len(patients)} shown: {shown}"[:300])
    return render(request, "charts/patient_list.html", {"patients": patients, "q": query})


@login_required
@require_GET
def chart_detail(request, patient_id: int):
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    notes = note_list_for_patient(user=request.user, patient=patient)
    summary = summary_latest_for_patient(user=request.user, patient=patient)
    audit_record(action="chart_view", request=request, patient_id=patient.pk, object_type="patient", object_id=patient.pk)
    context = {"patient": patient, "notes": notes, "summary": summary}
    if request.user.role == "nurse":
        from clinsum.drafting.kinds import DRAFT_KINDS
        from clinsum.drafting.selectors import drafts_for_author

        context["drafts"] = drafts_for_author(user=request.user, patient=patient)[:20]
        context["draft_kinds"] = DRAFT_KINDS.values()
    if summary is not None:
        context["stale"] = summary_is_stale(summary=summary)
        context["sections"] = summary_sections(summary=summary) if summary.status == "done" else []
        context["source_notes"] = summary_source_notes(summary=summary) if summary.status == "done" else []
    return render(request, "charts/chart.html", context)


def note_context(note, *, start: int | None = None, end: int | None = None) -> dict:
    """The note split around the highlighted span; the template escapes each part."""
    text = note.text
    versions = list(note.versions.all())  # earlier texts of an amended note, newest first
    if start is None or end is None or not (0 <= start < end <= len(text)):
        return {"note": note, "patient": note.patient, "before": text, "cited": "", "after": "",
                "versions": versions}
    return {"note": note, "patient": note.patient, "before": text[:start], "cited": text[start:end], "after": text[end:],
            "versions": versions}


def cited_note_page(request, citation, *, reason: str):
    """The note a citation (a summary's or a draft's) points to, its span highlighted; a read of
    the note, audited as one. The caller has checked access to the citation."""
    note = citation.note
    audit_record(action="note_view", request=request, patient_id=note.patient_id, object_type="note",
                 object_id=note.pk, reason=reason)
    context = note_context(note, start=citation.char_start, end=citation.char_end)
    context["citation"] = citation
    return render(request, "charts/note.html", context)


@login_required
@require_GET
def note_detail(request, note_id: int):
    note = note_get_for_user(user=request.user, note_id=note_id)
    audit_record(action="note_view", request=request, patient_id=note.patient_id, object_type="note", object_id=note.pk)
    return render(request, "charts/note.html", note_context(note))
