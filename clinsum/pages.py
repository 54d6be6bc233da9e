"""Pages composed from several apps. They live above the apps, so that no app imports one above
it (tests/test_layers.py): the chart page shows the patient's notes with the summary panel and,
for a nurse, the drafting panel; the patient-access page joins the audit trail and the summaries
and drafts whose model calls a privacy officer may read."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clinsum.access.selectors import note_list_for_patient, patient_get_for_user
from clinsum.audit.forms import PatientAccessForm
from clinsum.audit.selectors import action_label, audit_patient_access, audit_reader_check
from clinsum.audit.services import audit_record
from clinsum.audit_pages import role_label
from clinsum.drafting.kinds import DRAFT_KINDS
from clinsum.drafting.selectors import drafts_for_author
from clinsum.summaries.selectors import (
    model_call_owners_for_reader,
    summary_is_stale,
    summary_latest_for_patient,
    summary_panel_extras,
    summary_sections,
    summary_source_notes,
)


@login_required
@require_GET
def patient_access(request):
    form = PatientAccessForm(request.GET if "patient" in request.GET else None)
    rows = owners = None
    if form.is_valid():
        start, end = form.time_range()
        rows = audit_patient_access(user=request.user, patient_id=form.cleaned_data["patient"], start=start, end=end)
        for row in rows:
            row["role_label"] = role_label(row["role"])
            row["action_labels"] = [action_label(a) for a in row["actions"]]
        owners = model_call_owners_for_reader(user=request.user, patient_id=form.cleaned_data["patient"])
    else:
        audit_reader_check(user=request.user)
    audit_record(
        action="audit_view",
        request=request,
        object_type="audit_page",
        object_id="patient_access",
        reason=form.describe(),
    )
    return render(request, "audit/patient_access.html", {"form": form, "rows": rows, "owners": owners})


@login_required
@require_GET
def chart_detail(request, patient_id: int):
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    notes = note_list_for_patient(user=request.user, patient=patient)
    summary = summary_latest_for_patient(user=request.user, patient=patient)
    audit_record(
        action="chart_view", request=request, patient_id=patient.pk, object_type="patient", object_id=patient.pk
    )
    context = {"patient": patient, "notes": notes, "summary": summary}
    if request.user.role == "nurse":
        context["drafts"] = drafts_for_author(user=request.user, patient=patient)[:20]
        context["draft_kinds"] = DRAFT_KINDS.values()
    if summary is not None:
        context["stale"] = summary_is_stale(summary=summary)
        context["sections"] = summary_sections(summary=summary) if summary.status == "done" else []
        context["source_notes"] = summary_source_notes(summary=summary) if summary.status == "done" else []
        context.update(summary_panel_extras(user=request.user, summary=summary))
    return render(request, "charts/chart.html", context)
