from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import audit_events_for_user


@login_required
def event_list(request):
    patient = request.GET.get("patient", "")
    events = audit_events_for_user(
        user=request.user, action=request.GET.get("action", ""),
        patient_id=int(patient) if patient.isdigit() else None,
    )[:200]
    return render(request, "audit/event_list.html", {"events": events})
