"""Pages composed from several apps. They live above the apps, so that no app imports one above
it (tests/test_layers.py): the chart page shows the patient's notes with the summary panel and,
for a nurse, the drafting panel; the patient-access page joins the audit trail and the summaries
and drafts whose model calls a privacy officer may read."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinsum.access.forms import PatientLookupForm
from clinsum.access.selectors import (
    note_authors_for_patient,
    note_list_for_patient,
    note_search_for_patient,
    patient_get_for_user,
    patient_list_for_user,
)
from clinsum.asking.selectors import PAST_QUESTIONS, questions_for_patient
from clinsum.audit.forms import PatientAccessForm
from clinsum.audit.selectors import action_label, audit_patient_access, audit_reader_check
from clinsum.audit.services import audit_record
from clinsum.audit_pages import patients_searched, role_label, search_reason
from clinsum.charts.forms import ChartSearchForm, NoteFilterForm
from clinsum.charts.models import EmbeddingStatus, NoteType
from clinsum.charts.selectors import patient_identities_for_audit
from clinsum.charts.timeline import stay_timeline
from clinsum.drafting.kinds import DRAFT_KINDS
from clinsum.drafting.selectors import drafts_for_author
from clinsum.summaries.selectors import (
    model_call_owners_for_reader,
    patients_with_fresh_summary,
    summary_is_stale,
    summary_latest_for_patient,
    summary_panel_extras,
    summary_sections,
    summary_source_notes,
)


@login_required
@require_GET
def patient_access(request):
    """Who accessed one patient, named by exact MRN or ClinSum id, or by family name and birth
    date as on the audit search (audit_pages.patients_searched). When that names several
    patients, the page lists them to choose from; the audit row carries ids, never what was typed."""
    audit_reader_check(user=request.user)
    asked = any(name in request.GET for name in PatientAccessForm.PATIENT_FIELDS)
    form = PatientAccessForm(request.GET if asked else None)
    rows = owners = patient = None
    patient_ids: list[int] | None = None
    choices: list = []
    if form.is_valid():
        patient_ids, _found = patients_searched(user=request.user, form=form)
    if form.is_valid() and patient_ids:
        identities = patient_identities_for_audit(user=request.user, patient_ids=patient_ids)
        if len(patient_ids) > 1:
            choices = [identities.get(pk) or pk for pk in patient_ids]
        else:
            patient_id = patient_ids[0]
            patient = identities.get(patient_id) or patient_id  # an id alone: a patient since removed
            start, end = form.time_range()
            rows = audit_patient_access(user=request.user, patient_id=patient_id, start=start, end=end)
            for row in rows:
                row["role_label"] = role_label(row["role"])
                row["action_labels"] = [action_label(a) for a in row["actions"]]
            owners = model_call_owners_for_reader(user=request.user, patient_id=patient_id)
    audit_record(
        action="audit_view",
        request=request,
        object_type="audit_page",
        object_id="patient_access",
        patient_id=patient_ids[0] if patient_ids and len(patient_ids) == 1 else None,
        reason=search_reason(form, patient_ids) if form.is_bound else "",
    )
    return render(
        request,
        "audit/patient_access.html",
        {"form": form, "rows": rows, "owners": owners, "patient": patient, "choices": choices},
    )


NOTE_TYPE_LABELS = dict(NoteType.choices)
PATIENT_LIST_MAX = 500  # a ward list, not the hospital


@login_required
@require_http_methods(["GET", "POST"])
def patient_list(request):
    """The ward list: the patients of the user's unit and care teams, with age, unit, the
    admission the notes record, and whether a summary of the chart as it is now exists (the
    join of access and summaries, so it lives here). A search is POSTed, so a name or MRN
    never sits in a URL, and so in no access log, browser history or proxy log; a query
    string is ignored."""
    query = request.POST.get("q", "") if request.method == "POST" else ""
    if "\x00" in query:
        return HttpResponseBadRequest("The search contains a NUL character.")
    patients = list(patient_list_for_user(user=request.user, query=query)[:PATIENT_LIST_MAX])
    fresh = patients_with_fresh_summary(user=request.user, patient_ids=[p.pk for p in patients])
    today = timezone.localdate()
    rows = [{"patient": p, "age": age_on(p.birth_date, today), "fresh": p.pk in fresh} for p in patients]
    shown = ", ".join(str(p.pk) for p in patients[:50])
    audit_record(
        action="patient_list_view",
        request=request,
        reason=f"{'search' if query.strip() else 'list'}; {len(patients)} shown: {shown}"[:300],
    )
    lookup = None
    if query.strip() and not patients:  # offer the hospital-wide lookup, the query in the likelier field
        typed = query.strip()
        lookup = PatientLookupForm(initial={"mrn" if any(c.isdigit() for c in typed) else "family_name": typed})
    return render(request, "charts/patient_list.html", {"rows": rows, "q": query, "lookup": lookup})


def age_on(birth_date: date | None, day: date) -> int | None:
    """Whole years from birth to `day`; None when the birth date is unknown."""
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _chart_page(request, patient, *, search_form: ChartSearchForm, passages=None):
    """The chart page: notes (filtered by GET parameters), the stay's timeline, the search box
    and its passages, the summary panel and, for a nurse, the drafting panel. With htmx, only
    the notes panel (filters and search swap it)."""
    authors = note_authors_for_patient(user=request.user, patient=patient)
    filter_form = NoteFilterForm(request.GET or None, authors=authors)
    notes = list(note_list_for_patient(user=request.user, patient=patient, **filter_form.filters()))
    context = {
        "patient": patient,
        "notes": notes,
        "has_pending": any(n.embedding_status == EmbeddingStatus.PENDING for n in notes),
        "filter_form": filter_form,
        "search_form": search_form,
        "passages": None
        if passages is None
        else [{"hit": hit, "type_label": NOTE_TYPE_LABELS.get(hit.note_type, "Note")} for hit in passages],
    }
    if request.htmx:
        return render(request, "charts/chart.html#notes-panel", context)
    summary = summary_latest_for_patient(user=request.user, patient=patient)
    context["summary"] = summary
    context["questions"] = questions_for_patient(user=request.user, patient=patient)[:PAST_QUESTIONS]
    context["timeline"] = stay_timeline(note_list_for_patient(user=request.user, patient=patient))
    if request.user.role == "nurse":
        context["drafts"] = drafts_for_author(user=request.user, patient=patient)[:20]
        context["draft_kinds"] = DRAFT_KINDS.values()
    if summary is not None:
        context["stale"] = summary_is_stale(summary=summary)
        context["sections"] = summary_sections(summary=summary) if summary.status == "done" else []
        context["source_notes"] = summary_source_notes(summary=summary) if summary.status == "done" else []
        context.update(summary_panel_extras(user=request.user, summary=summary))
    return render(request, "charts/chart.html", context)


@login_required
@require_GET
def chart_detail(request, patient_id: int):
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    audit_record(
        action="chart_view", request=request, patient_id=patient.pk, object_type="patient", object_id=patient.pk
    )
    return _chart_page(request, patient, search_form=ChartSearchForm())


@login_required
@require_POST
def chart_search(request, patient_id: int):
    """Search within one chart: passages of its indexed notes with the words marked. POSTed, so
    the words stay out of URLs; audited as a read of the chart, without the words."""
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    form = ChartSearchForm(request.POST)
    passages = None
    if form.is_valid():
        passages = note_search_for_patient(user=request.user, patient=patient, query=form.cleaned_data["q"])
    audit_record(
        action="chart_search",
        request=request,
        patient_id=patient.pk,
        object_type="patient",
        object_id=patient.pk,
        reason=f"{len(passages)} passages shown" if passages is not None else "no search words",
    )
    return _chart_page(request, patient, search_form=form, passages=passages)
