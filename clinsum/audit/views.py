"""Privacy-officer pages (the patient-access page, which also lists summaries and drafts, is
composed in clinsum/pages.py). Every page view is itself audited (audit_view, audit_export); the
selectors refuse every other role."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .export import EXPORT_BATCH_SIZE, audit_csv_lines
from .forms import AnomalyForm, AuditSearchForm
from .selectors import (
    audit_actions_for_user,
    audit_anomalies,
    audit_events_for_user,
    audit_reader_check,
)
from .services import audit_record


@login_required
@require_GET
def event_list(request):
    form = AuditSearchForm(request.GET)
    events = audit_events_for_user(user=request.user, **(form.search() if form.is_valid() else {}))
    if not form.is_valid():
        events = events.none()
    audit_record(
        action="audit_view", request=request, object_type="audit_page", object_id="events", reason=form.describe()
    )
    page = Paginator(events, settings.AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": page,
            "events": page.object_list,
            "actions": audit_actions_for_user(user=request.user),
        },
    )


@login_required
@require_GET
def event_export(request):
    form = AuditSearchForm(request.GET)
    events = audit_events_for_user(user=request.user, **(form.search() if form.is_valid() else {}))
    if not form.is_valid():
        return HttpResponseBadRequest(
            "Invalid search: " + "; ".join(m for ms in form.errors.values() for m in ms), content_type="text/plain"
        )
    audit_record(
        action="audit_export",
        request=request,
        object_type="audit_page",
        object_id="export_csv",
        reason=f"{form.describe()} rows={events.count()}"[:500],
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(
        audit_csv_lines(events.iterator(chunk_size=EXPORT_BATCH_SIZE)), content_type="text/csv; charset=utf-8"
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
