"""The privacy officers' audit search, its CSV export and the anomaly flags. They live above the
apps (tests/test_layers.py: the audit app sits below charts and accounts) because they join the
trail with patient identity (a patient is searched by exact MRN, or family name and birth date,
and each event shows whom it was about) and with the accounts' role labels. Every page view is
itself audited (audit_view, audit_export); the selectors refuse every other role."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinsum.accounts.models import Role
from clinsum.audit.export import EXPORT_BATCH_SIZE, audit_csv_lines
from clinsum.audit.forms import AnomalyForm, AuditSearchForm, PatientQueryForm
from clinsum.audit.selectors import (
    action_label,
    audit_actions_for_user,
    audit_anomalies,
    audit_events_for_user,
    audit_reader_check,
)
from clinsum.audit.services import audit_record
from clinsum.charts.models import Patient
from clinsum.charts.selectors import patient_identities_for_audit, patients_for_audit

_ROLE_LABELS = dict(Role.choices)
_MAX_ID_DIGITS = 18  # a ClinSum id is a bigint


def role_label(role: str) -> str:
    """The accounts' name for a role code ("privacy_officer" -> "Privacy officer"); "" stays ""."""
    return str(_ROLE_LABELS.get(role, role))


def patients_searched(*, user, form: PatientQueryForm) -> tuple[list[int] | None, list[Patient]]:
    """The patient ids the form names (None: no patient filter) and the patients found. An MRN
    or a name that matches nobody is a form error; digits are also taken as a ClinSum id, which
    may name a patient since removed (its events remain)."""
    query = form.patient_query()
    if query is None:
        return None, []
    if "mrn_or_id" in query:
        text = query["mrn_or_id"]
        found = patients_for_audit(user=user, mrn=text)
        ids = {p.pk for p in found}
        if text.isdigit() and len(text) <= _MAX_ID_DIGITS:
            ids.add(int(text))
        if not ids:
            form.add_error("patient", "No patient has this MRN. Give the exact MRN, or the ClinSum id (a number).")
    else:
        found = patients_for_audit(user=user, family_name=query["family_name"], birth_date=query["birth_date"])
        ids = {p.pk for p in found}
        if not ids:
            form.add_error(
                "family_name", "No patient has this family name and birth date (the whole family name, as registered)."
            )
    return sorted(ids), found


def _search(request) -> tuple[AuditSearchForm, list[int] | None, list[Patient], object]:
    audit_reader_check(user=request.user)
    form = AuditSearchForm(request.GET)
    patient_ids: list[int] | None = None
    found: list[Patient] = []
    if form.is_valid():
        patient_ids, found = patients_searched(user=request.user, form=form)
    if form.is_valid():
        events = audit_events_for_user(user=request.user, patient_ids=patient_ids, **form.search())
    else:
        events = audit_events_for_user(user=request.user).none()
    return form, patient_ids, found, events


def search_reason(form: PatientQueryForm, patient_ids: list[int] | None) -> str:
    """The audit row's reason: the filters, with patient ids in place of the MRN or name typed."""
    text = form.describe()
    if patient_ids:
        text += " patients=" + ",".join(map(str, patient_ids))
    return text.strip()[:500]


@login_required
@require_GET
def event_list(request):
    form, patient_ids, _found, events = _search(request)
    page = Paginator(events, settings.AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    identities = patient_identities_for_audit(
        user=request.user, patient_ids=[e.patient_id for e in rows] + (patient_ids or [])
    )
    for e in rows:
        e.patient = identities.get(e.patient_id)
        e.role_label = role_label(e.role)
        e.action_label = action_label(e.action)
    audit_record(
        action="audit_view",
        request=request,
        object_type="audit_page",
        object_id="events",
        patient_id=patient_ids[0] if patient_ids and len(patient_ids) == 1 else None,
        reason=search_reason(form, patient_ids),
    )
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": page,
            "events": rows,
            "searched": [identities[pk] for pk in patient_ids or () if pk in identities],
            "searched_removed": [pk for pk in patient_ids or () if pk not in identities],
            "actions": [(a, action_label(a)) for a in audit_actions_for_user(user=request.user)],
        },
    )


@login_required
@require_GET
def event_export(request):
    form, patient_ids, _found, events = _search(request)
    if not form.is_valid():
        return HttpResponseBadRequest(
            "Invalid search: " + "; ".join(m for ms in form.errors.values() for m in ms), content_type="text/plain"
        )
    recorded = audit_record(
        action="audit_export",
        request=request,
        object_type="audit_page",
        object_id="export_csv",
        patient_id=patient_ids[0] if patient_ids and len(patient_ids) == 1 else None,
        reason=f"{search_reason(form, patient_ids)} rows={events.count()}"[:500],
    )
    # The export's own row may be about the patient searched: the file is the trail before it.
    events = events.filter(seq__lt=recorded.seq)
    # One query for the identities of every patient in the file, beside the streamed events.
    identities = patient_identities_for_audit(
        user=request.user, patient_ids=events.order_by().values_list("patient_id", flat=True).distinct()
    )
    mrns = {pk: p.mrn for pk, p in identities.items()}
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(
        audit_csv_lines(events.iterator(chunk_size=EXPORT_BATCH_SIZE), mrns), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def anomaly_list(request):
    form = AnomalyForm(request.GET)
    if form.is_valid():
        start, end = form.time_range()
        anomalies = audit_anomalies(user=request.user, start=start, end=end)
    else:
        audit_reader_check(user=request.user)
        start = end = None
        anomalies = []
    identities = patient_identities_for_audit(user=request.user, patient_ids=[a.patient_id for a in anomalies])
    for a in anomalies:
        a.role_label = role_label(a.role)  # type: ignore[attr-defined]
        a.patient = identities.get(a.patient_id)  # type: ignore[attr-defined]
    audit_record(
        action="audit_view", request=request, object_type="audit_page", object_id="anomalies", reason=form.describe()
    )
    day_start, day_end = settings.AUDIT_AFTER_HOURS
    return render(
        request,
        "audit/anomaly_list.html",
        {
            "form": form,
            "anomalies": anomalies,
            "start": start,
            "end": end,
            "per_hour": settings.AUDIT_ANOMALY_CHARTS_PER_HOUR,
            "day_start": day_start,
            "day_end": day_end,
        },
    )
