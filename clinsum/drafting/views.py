"""Draft pages. Thin: a selector checks who may see what, a service changes it, and every
read or change of a draft is audited before the response."""

from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clinsum.access.selectors import patient_get_for_user
from clinsum.access.views import cited_note_page
from clinsum.audit.services import audit_record

from .kinds import DRAFT_KINDS, draft_kind
from .models import DraftStatus
from .plain_language import jargon_unexplained, reading_grade
from .selectors import (
    draft_citation_get_for_author,
    draft_get_for_author,
    draft_older_than_chart,
    draft_sections,
    draft_unresolved,
    draft_unsigned_of_kind,
    drafting_check,
    drafts_for_author,
)
from .services import (
    DraftConflict,
    DraftError,
    draft_create,
    draft_discard,
    draft_retry,
    draft_section_save,
    draft_sign,
)


def _audit(request, action: str, draft, **extra):
    audit_record(
        action=action, request=request, patient_id=draft.patient_id, object_type="draft", object_id=draft.pk, **extra
    )


def _context(draft, **extra) -> dict:
    kind = draft_kind(draft.kind)
    context = {"draft": draft, "patient": draft.patient, "kind": kind, **extra}
    if draft.status in (DraftStatus.READY, DraftStatus.SIGNED):
        sections = draft_sections(draft=draft, kind=kind)
        context.update(sections=sections, unresolved=draft_unresolved(draft=draft))
        if draft.status == DraftStatus.READY:
            context.update(older_than_chart=draft_older_than_chart(draft=draft))
        if kind.patient_facing:
            text = "\n".join(s["text"] for s in sections)
            context.update(reading_grade=reading_grade(text), jargon=jargon_unexplained(text))
    return context


def _to_draft(request, draft, *, existing: bool = False):
    """After a change: the draft's page (htmx follows HX-Redirect; no PHI in this response).
    `existing`: the page says this is the unsigned draft she already had."""
    url = reverse("draft_detail", args=[draft.pk]) + ("?existing=1" if existing else "")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _panel(request, draft, *, status: int = 200, **extra):
    if draft.status in (DraftStatus.READY, DraftStatus.SIGNED) or not request.htmx:
        _audit(request, "draft_view", draft)  # the whole page shows the patient banner, whatever the status
    template = "drafting/draft.html#draft-panel" if request.htmx else "drafting/draft.html"
    return render(request, template, _context(draft, **extra), status=status)


@login_required
@require_GET
def draft_list(request):
    drafting_check(user=request.user)
    drafts = drafts_for_author(user=request.user)[:200]
    audit_record(action="draft_list_view", request=request)
    return render(request, "drafting/draft_list.html", {"drafts": drafts})


@login_required
@require_POST
def draft_create_view(request, patient_id: int):
    drafting_check(user=request.user)
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    kind = request.POST.get("kind", "")
    if kind not in DRAFT_KINDS:
        return HttpResponseBadRequest("Choose what to draft: " + ", ".join(k.title for k in DRAFT_KINDS.values()))
    if request.POST.get("another") != "1":
        # One unsigned draft of a kind per patient unless she asks for another: a second click
        # (or a second tab) leads to the draft she has, whose page offers a new one.
        existing = draft_unsigned_of_kind(user=request.user, patient=patient, kind_key=kind)
        if existing is not None:
            return _to_draft(request, existing, existing=True)
    draft = draft_create(patient=patient, user=request.user, kind_key=kind)
    _audit(request, "draft_create", draft, reason=kind)
    return _to_draft(request, draft)


@login_required
@require_GET
def draft_detail(request, draft_id: int):
    draft = draft_get_for_author(user=request.user, draft_id=draft_id)
    return _panel(request, draft, existing=request.GET.get("existing") == "1" and draft.status != DraftStatus.SIGNED)


@login_required
@require_POST
def draft_section_save_view(request, draft_id: int):
    draft = draft_get_for_author(user=request.user, draft_id=draft_id)
    section = request.POST.get("section", "")
    try:
        revision = int(request.POST.get("revision", ""))
    except ValueError:
        return HttpResponseBadRequest("The edit is missing the draft's revision; reload the page.")
    try:
        draft = draft_section_save(
            draft=draft, user=request.user, section=section, text=request.POST.get("text", ""), revision=revision
        )
    except DraftConflict as exc:
        _audit(request, "draft_edit", draft, outcome="conflict", reason=f"section {section[:64]}")
        return _section_response(request, draft, section, error=str(exc), status=409)
    except DraftError as exc:
        return _section_response(request, draft, section, error=str(exc), status=400)
    _audit(request, "draft_edit", draft, reason=f"section {section[:64]}")
    return _section_response(request, draft, section, saved=True)


def _section_response(request, draft, section_key: str, *, saved: bool = False, error: str = "", status: int = 200):
    if not request.htmx:
        if error:
            return _panel(request, draft, status=status, error=error)
        return redirect(reverse("draft_detail", args=[draft.pk]) + f"#section-{section_key}")
    kind = draft_kind(draft.kind)
    shown = (
        draft_sections(draft=draft, kind=kind, only=section_key)
        if draft.status in (DraftStatus.READY, DraftStatus.SIGNED)
        else []
    )
    # The saved section's preview, and every section's revision input (out of band).
    context = {
        "draft": draft,
        "section": shown[0] if shown else None,
        "sections": kind.sections,
        "section_key": section_key,
        "saved": saved,
        "error": error,
    }
    # htmx swaps 4xx responses only when told to; the template's error box must reach the nurse.
    response = render(request, "drafting/_section_saved.html", context, status=200)
    if status != 200:
        response["X-ClinSum-Status"] = str(status)
    return response


def password_reconfirm(request, *, password: str) -> None:
    """Re-authentication before signing: the password is checked by the login backends (LDAP
    too) with this request, so django-axes counts a wrong one toward the lockout like a login."""
    if not password:
        raise DraftError("Enter your password to sign.")
    user = request.user
    confirmed = authenticate(request, username=user.get_username(), password=password)
    if confirmed is None or confirmed.pk != user.pk:
        if getattr(request, "axes_locked_out", False):
            raise DraftError(
                "Too many wrong passwords: signing and logging in are locked for now. "
                "Ask an administrator to unlock your account; the draft is kept."
            )
        raise DraftError("That password is not correct; the draft was not signed.")


@login_required
@require_POST
def draft_sign_view(request, draft_id: int):
    draft = draft_get_for_author(user=request.user, draft_id=draft_id)
    try:
        password_reconfirm(request, password=request.POST.get("password", ""))
        note = draft_sign(draft=draft, user=request.user)
    except DraftError as exc:
        _audit(request, "draft_sign", draft, outcome="refused", reason=str(exc)[:200])
        draft.refresh_from_db()
        return _panel(request, draft, status=400, sign_error=str(exc))
    _audit(request, "draft_sign", draft, reason=f"note {note.pk}")
    return _to_draft(request, draft)


@login_required
@require_POST
def draft_discard_view(request, draft_id: int):
    draft = draft_get_for_author(user=request.user, draft_id=draft_id)
    patient_id, pk = draft.patient_id, draft.pk
    try:
        draft_discard(draft=draft, user=request.user)
    except DraftError as exc:
        return _panel(request, draft, status=400, error=str(exc))
    audit_record(action="draft_discard", request=request, patient_id=patient_id, object_type="draft", object_id=pk)
    return redirect(reverse("chart_detail", args=[patient_id]) + "#drafting")


@login_required
@require_POST
def draft_retry_view(request, draft_id: int):
    draft = draft_get_for_author(user=request.user, draft_id=draft_id)
    try:
        new = draft_retry(draft=draft, user=request.user)
    except DraftError as exc:
        return _panel(request, draft, status=400, error=str(exc))
    _audit(request, "draft_create", new, reason=f"retry of draft {draft.pk}")
    return redirect(reverse("draft_detail", args=[new.pk]))


@login_required
@require_GET
def draft_print(request, draft_id: int):
    draft = draft_get_for_author(user=request.user, draft_id=draft_id)
    if draft.status not in (DraftStatus.READY, DraftStatus.SIGNED):
        raise PermissionDenied("There is nothing to print until the draft is ready.")
    _audit(request, "draft_view", draft, reason="print")
    return render(request, "drafting/draft_print.html", _context(draft))


@login_required
@require_GET
def draft_citation_detail(request, draft_citation_id: int):
    """The cited note with the supporting span highlighted, as for summary citations."""
    citation = draft_citation_get_for_author(user=request.user, draft_citation_id=draft_citation_id)
    return cited_note_page(request, citation, reason=f"draft citation {citation.pk}")
