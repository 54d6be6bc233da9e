"""Pages that read patients and notes under the access rule, and the pages that change who may
read them: a note (also as a citation's target), care teams (the
admin console: patient ids and units, never identity) and break-glass (request and review)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinsum.accounts.errors import PatientOutOfScope
from clinsum.accounts.forms import BreakGlassForm, CareTeamAddForm, CareTeamLookupForm
from clinsum.accounts.next_url import safe_next
from clinsum.accounts.selectors import admin_check, chart_staff_for_admin
from clinsum.accounts.views import permission_denied_context
from clinsum.audit.services import audit_record

from .forms import BreakGlassReviewForm, PatientLookupForm
from .models import ReviewOutcome
from .selectors import (
    REVIEW_PENDING,
    LookupLimitReached,
    break_glass_grant_get_for_review,
    break_glass_grants_for_review,
    break_glass_needed,
    care_team_for_admin,
    chart_reader_check,
    note_get_for_user,
    patient_for_admin,
    patient_identity_for_break_glass,
    patient_lookup,
    patient_units_for_admin,
    patients_on_unit_for_admin,
)
from .services import (
    AccessError,
    break_glass_grant,
    break_glass_reason_min_chars,
    break_glass_review,
    care_team_add,
    care_team_remove,
    patient_place,
)

LOOKUP_LIMIT_MESSAGE = (
    "You have looked up many patients in the last hour, so identities are not shown for now. "
    "Try again later, or ask the patient's unit."
)


def audit_identity_shown(request, patients, *, kind: str, how: str) -> None:
    """One audit row per patient whose identity a page shows (none found: one row, no patient);
    these rows are also what the hourly lookup limit counts. Ids only, never what was typed."""
    if not patients:
        audit_record(action=kind, request=request, object_type="patient", reason=f"{how}; none found")
    for patient in patients:
        audit_record(
            action=kind,
            request=request,
            patient_id=patient.pk,
            object_type="patient",
            object_id=patient.pk,
            reason=f"{how}; {len(patients)} found",
        )


@login_required
@require_http_methods(["GET", "POST"])
def patient_lookup_view(request):
    """Hospital-wide lookup of one patient by exact MRN or exact family name and birth date,
    to confirm who it is and go to the chart (in scope) or break-glass (outside it). POSTed, so
    nothing typed reaches a URL; identity only, at most PATIENT_LOOKUP_MAX matches."""
    chart_reader_check(user=request.user)
    form = PatientLookupForm(request.POST if request.method == "POST" else None)
    context: dict = {"form": form, "matches": None, "more": False, "limited": False}
    if request.method == "POST" and form.is_valid():
        try:
            matches, more = patient_lookup(
                user=request.user,
                mrn=form.cleaned_data["mrn"],
                family_name=form.cleaned_data["family_name"],
                birth_date=form.cleaned_data["birth_date"],
            )
        except LookupLimitReached:
            context["limited"] = True
        else:
            audit_identity_shown(
                request, [m.patient for m in matches], kind="patient_lookup", how=f"lookup by {form.kind()}"
            )
            context.update(matches=matches, more=more)
    return render(request, "charts/patient_lookup.html", context)


def permission_denied(request, exception=None):
    """handler403: says why; for a chart outside a clinician's or nurse's scope, names the patient
    (name, MRN, birth date; an audited read, within the hourly lookup limit) and offers break-glass."""
    context = permission_denied_context(request, exception)
    if isinstance(exception, PatientOutOfScope) and "break_glass_url" in context:
        try:
            patient = patient_identity_for_break_glass(user=request.user, patient_id=exception.patient_id)
        except (LookupLimitReached, Http404):
            context["identity_limited"] = True
        else:
            audit_identity_shown(request, [patient], kind="patient_identity_view", how="access denied page")
            context["patient"] = patient
    return render(request, "accounts/403.html", context, status=403)


def note_context(note, *, start: int | None = None, end: int | None = None) -> dict:
    """The note split around the highlighted span; the template escapes each part."""
    text = note.text
    versions = list(note.versions.all())  # earlier texts of an amended note, newest first
    if start is None or end is None or not (0 <= start < end <= len(text)):
        return {"note": note, "patient": note.patient, "before": text, "cited": "", "after": "", "versions": versions}
    return {
        "note": note,
        "patient": note.patient,
        "before": text[:start],
        "cited": text[start:end],
        "after": text[end:],
        "versions": versions,
    }


def cited_note_page(request, citation, *, reason: str):
    """The note a citation (a summary's or a draft's) points to, its span highlighted; a read of
    the note, audited as one. The caller has checked access to the citation."""
    note = citation.note
    audit_record(
        action="note_view",
        request=request,
        patient_id=note.patient_id,
        object_type="note",
        object_id=note.pk,
        reason=reason,
    )
    context = note_context(note, start=citation.char_start, end=citation.char_end)
    context["citation"] = citation
    return render(request, "charts/note.html", context)


@login_required
@require_GET
def note_detail(request, note_id: int):
    """A note; `?start=&end=` (character offsets, as a chart search's passage links give)
    highlights that passage and the page scrolls to it."""
    note = note_get_for_user(user=request.user, note_id=note_id)
    audit_record(action="note_view", request=request, patient_id=note.patient_id, object_type="note", object_id=note.pk)
    start, end = (_offset(request.GET.get(name)) for name in ("start", "end"))
    return render(request, "charts/note.html", note_context(note, start=start, end=end))


def _offset(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


# --- Care teams and break-glass ------------------------------------------------------------


@login_required
@require_GET
def care_team_search(request):
    """Patients by id or by unit, never by name or MRN: an administrator sees no patient identity."""
    admin_check(user=request.user)
    form = CareTeamLookupForm(request.GET if "patient" in request.GET else None)
    if form.is_valid():
        try:
            patient = patient_for_admin(user=request.user, patient_id=form.cleaned_data["patient"])
        except Http404:
            form.add_error("patient", "No patient has this id.")
        else:
            return redirect("care_team_detail", patient_id=patient.pk)
    units = patient_units_for_admin(user=request.user)
    unit = request.GET.get("unit", "")
    patients = None
    if unit in units:
        patients = patients_on_unit_for_admin(user=request.user, unit=unit)
        audit_record(
            action="care_team_list",
            request=request,
            object_type="unit",
            object_id=unit[:64],
            reason=f"patients={len(patients)}",
        )
    return render(
        request,
        "accounts/care_team_search.html",
        {
            "form": form,
            "units": units,
            "unit": unit if patients is not None else "",
            "patients": patients,
        },
    )


@login_required
@require_GET
def care_team_detail(request, patient_id: int):
    patient = patient_for_admin(user=request.user, patient_id=patient_id)
    audit_record(
        action="care_team_view", request=request, patient_id=patient.pk, object_type="patient", object_id=patient.pk
    )
    return render(
        request,
        "accounts/care_team_detail.html",
        {
            "patient": patient,
            "members": care_team_for_admin(user=request.user, patient_id=patient.pk),
            "staff": chart_staff_for_admin(user=request.user),
            "form": CareTeamAddForm(),
        },
    )


@login_required
@require_POST
def care_team_add_view(request, patient_id: int):
    patient = patient_for_admin(user=request.user, patient_id=patient_id)
    form = CareTeamAddForm(request.POST)
    if form.is_valid():
        try:
            care_team_add(actor=request.user, patient_id=patient.pk, username=form.cleaned_data["username"])
        except AccessError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Added to the care team.")
    else:
        messages.error(request, "Choose a clinician or nurse.")
    return redirect("care_team_detail", patient_id=patient.pk)


@login_required
@require_POST
def patient_place_view(request, patient_id: int):
    """An admin puts the patient on a unit (e.g. a patient from a FHIR bundle that had none)."""
    patient = patient_for_admin(user=request.user, patient_id=patient_id)
    try:
        old, unit = patient_place(actor=request.user, patient_id=patient.pk, unit=request.POST.get("unit", ""))
    except AccessError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The patient is on unit {unit} (was {old or 'on no unit'}).")
    return redirect("care_team_detail", patient_id=patient.pk)


@login_required
@require_POST
def care_team_remove_view(request, patient_id: int, user_id: int):
    patient = patient_for_admin(user=request.user, patient_id=patient_id)
    care_team_remove(actor=request.user, patient_id=patient.pk, user_id=user_id)
    messages.success(request, "Removed from the care team.")
    return redirect("care_team_detail", patient_id=patient.pk)


@login_required
@require_http_methods(["GET", "POST"])
def break_glass_create(request, patient_id: int):
    chart_url = reverse("chart_detail", args=[patient_id])
    if not break_glass_needed(user=request.user, patient_id=patient_id):
        return redirect(safe_next(request, chart_url))  # in scope already: nothing to break
    min_chars = break_glass_reason_min_chars()
    form = BreakGlassForm(request.POST or None, min_chars=min_chars)
    if request.method == "POST" and form.is_valid():
        try:
            break_glass_grant(user=request.user, patient_id=patient_id, reason=form.cleaned_data["reason"])
        except AccessError as exc:
            form.add_error("reason", str(exc))
        else:
            return redirect(safe_next(request, chart_url))
    try:
        patient = patient_identity_for_break_glass(user=request.user, patient_id=patient_id)
    except LookupLimitReached:
        patient = None
    else:
        audit_identity_shown(request, [patient], kind="patient_identity_view", how="break-glass form")
    return render(
        request,
        "accounts/break_glass_form.html",
        {
            "form": form,
            "patient_id": patient_id,
            "patient": patient,
            "limit_message": LOOKUP_LIMIT_MESSAGE,
            "hours": settings.BREAK_GLASS_HOURS,
            "min_chars": min_chars,
            "next": safe_next(request, ""),
        },
    )


@login_required
@require_GET
def break_glass_review_list(request):
    outcome = request.GET.get("outcome", REVIEW_PENDING)
    grants = break_glass_grants_for_review(user=request.user, outcome=outcome)
    audit_record(
        action="audit_view",
        request=request,
        object_type="audit_page",
        object_id="break_glass_reviews",
        reason=f"outcome={outcome}"[:100],
    )
    filters = [(REVIEW_PENDING, "Waiting for review"), *ReviewOutcome.choices]
    return render(
        request,
        "accounts/break_glass_reviews.html",
        {
            "grants": grants,
            "outcome": outcome,
            "filters": filters,
            "pending": outcome == REVIEW_PENDING,
            "form": BreakGlassReviewForm(),
        },
    )


@login_required
@require_POST
def break_glass_review_view(request, grant_id: int):
    grant = break_glass_grant_get_for_review(user=request.user, grant_id=grant_id)
    form = BreakGlassReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Access #{grant.pk}: choose the outcome of the review.")
    else:
        try:
            break_glass_review(
                reviewer=request.user,
                grant_id=grant.pk,
                outcome=form.cleaned_data["outcome"],
                comment=form.cleaned_data["comment"],
            )
        except AccessError as exc:
            messages.error(request, f"Access #{grant.pk}: {exc}")
        else:
            label = ReviewOutcome(form.cleaned_data["outcome"]).label.lower()
            messages.success(request, f"Break-glass access #{grant.pk} reviewed: {label}.")
    return redirect("break_glass_review_list")
