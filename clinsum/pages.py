"""Pages composed from several apps. They live above the apps, so that no app imports one above
it (tests/test_layers.py): the patient-access page joins the audit trail and the summaries and
drafts whose model calls a privacy officer may read."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clinsum.audit.forms import PatientAccessForm
from clinsum.audit.selectors import audit_patient_access, audit_reader_check
from clinsum.audit.services import audit_record
from clinsum.summaries.selectors import model_call_owners_for_reader


@login_required
@require_GET
def patient_access(request):
    form = PatientAccessForm(request.GET if "patient" in request.GET else None)
    rows = owners = None
    if form.is_valid():
        start, end = form.time_range()
        rows = audit_patient_access(user=request.user, patient_id=form.cleaned_data["patient"], start=start, end=end)
        owners = model_call_owners_for_reader(user=request.user, patient_id=form.cleaned_data["patient"])
    else:
        audit_reader_check(user=request.user)
    audit_record(action="audit_view", request=request, object_type="audit_page", object_id="patient_access",
                 reason=form.describe())
    return render(request, "audit/patient_access.html", {"form": form, "rows": rows, "owners": owners})
