"""Reads of questions asked of a chart. A question belongs to its chart: whoever may read the
chart (a clinician or nurse in scope) sees its questions and answers; the access rule applies
through the patient, and a citation opens only a note of that same patient."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from clinsum.access.selectors import patient_get_for_user
from clinsum.charts.models import Note

from .models import AnswerCitation, AnswerSentence, Question

PAST_QUESTIONS = 20


def asking_check(*, user) -> None:
    """Clinicians and nurses ask questions of the charts they read."""
    if not (user.is_authenticated and user.reads_charts()):
        raise PermissionDenied("Asking a chart is for clinicians and nurses.")


def question_get_for_user(*, user, question_id: int) -> Question:
    asking_check(user=user)
    question = Question.objects.filter(pk=question_id).only("id", "patient_id").first()
    if question is None:
        raise Http404("No such question.")
    patient_get_for_user(user=user, patient_id=question.patient_id)  # 403 outside the reader's scope
    return Question.objects.select_related("patient", "asked_by").get(pk=question_id)


def answer_citation_get_for_user(*, user, answer_citation_id: int) -> AnswerCitation:
    citation = AnswerCitation.objects.filter(pk=answer_citation_id).select_related("sentence", "note").first()
    if citation is None:
        raise Http404("No such citation.")
    question = question_get_for_user(user=user, question_id=citation.sentence.question_id)
    if citation.note.patient_id != question.patient_id:
        raise Http404("No such citation.")  # never another patient's note through a citation
    return citation


def questions_for_patient(*, user, patient) -> QuerySet[Question]:
    """The chart's past questions, newest first."""
    asking_check(user=user)
    patient_get_for_user(user=user, patient_id=patient.pk)
    return Question.objects.filter(patient=patient).select_related("asked_by").order_by("-created_at", "-id")


def answer_sentences(*, question: Question) -> list[AnswerSentence]:
    """The answer's sentences the verifier supported, in order, with their citations and notes.
    An unsupported sentence is never shown as an answer."""
    return list(
        question.sentences.filter(verdict="supported")
        .order_by("ordinal")
        .prefetch_related(
            Prefetch(
                "citations",
                queryset=AnswerCitation.objects.select_related("note").only(
                    "id",
                    "sentence_id",
                    "source_id",
                    "char_start",
                    "char_end",
                    "found",
                    "newer",
                    "note__id",
                    "note__note_type",
                    "note__authored_at",
                    "note__title",
                ),
            )
        )
    )


def question_notes(*, question: Question) -> list[Note]:
    """The notes closest to the question (what the answer read), in retrieval's order; a note
    purged since is left out."""
    ids = [int(i) for i in question.source_note_ids]
    notes = Note.objects.filter(pk__in=ids, patient_id=question.patient_id).only(
        "id", "note_type", "authored_at", "title"
    )
    by_id = {n.pk: n for n in notes}
    return [by_id[i] for i in ids if i in by_id]
