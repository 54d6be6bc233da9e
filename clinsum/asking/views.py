"""Ask the chart. Thin: a selector checks who may see what, a service asks; every ask and
every read of an answer is audited (ids only, never the question's text)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clinsum.access.selectors import patient_get_for_user
from clinsum.access.views import cited_note_page
from clinsum.audit.services import audit_record

from .selectors import (
    answer_citation_get_for_user,
    answer_sentences,
    asking_check,
    question_get_for_user,
    question_notes,
)
from .services import QuestionError, question_ask


def _answer_context(question) -> dict:
    finished = question.status == "answered"
    return {
        "question": question,
        "patient": question.patient,
        "sentences": answer_sentences(question=question) if finished else [],
        "notes_read": question_notes(question=question) if finished else [],
    }


@login_required
@require_POST
def question_ask_view(request, patient_id: int):
    asking_check(user=request.user)
    patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    text = request.POST.get("question", "")
    try:
        question = question_ask(user=request.user, patient_id=patient.pk, text=text)
    except QuestionError as exc:
        if request.htmx:  # htmx swaps only 2xx: the form comes back with the reason
            context = {"patient": patient, "ask_error": str(exc), "ask_error_text": text[:500].replace("\x00", "")}
            response = render(request, "asking/_ask.html#ask-form", context)
            response["X-ClinSum-Status"] = "400"
            return response
        return render(request, "asking/question.html", {"patient": patient, "ask_error": str(exc)}, status=400)
    audit_record(
        action="question_ask", request=request, patient_id=patient.pk, object_type="question", object_id=question.pk
    )
    if request.htmx:  # a fresh form, and the answer below it (polling until answered)
        context = {"patient": patient, "asked": question, "asked_sentences": [], "asked_notes": []}
        return render(request, "asking/_ask.html#ask-form", context)
    return redirect(reverse("question_detail", args=[question.pk]))


@login_required
@require_GET
def question_detail(request, question_id: int):
    question = question_get_for_user(user=request.user, question_id=question_id)
    if question.status == "answered" or not request.htmx:  # the answer, or the page's patient banner
        audit_record(
            action="question_view",
            request=request,
            patient_id=question.patient_id,
            object_type="question",
            object_id=question.pk,
        )
    context = _answer_context(question)
    if request.htmx:
        return render(request, "asking/_answer.html", context)
    return render(request, "asking/question.html", context)


@login_required
@require_GET
def answer_citation_detail(request, answer_citation_id: int):
    """The cited note with the supporting span highlighted, as for summary citations."""
    citation = answer_citation_get_for_user(user=request.user, answer_citation_id=answer_citation_id)
    return cited_note_page(request, citation, reason=f"answer citation {citation.pk}")
