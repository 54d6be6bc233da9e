"""Questions asked of a chart: ask (web), run (worker). The run is the grounded-generation job
(clinsum/summaries/generation/jobs.py) with the question's retrieval, answerer and rows
(jobs.QUESTION_JOB). The question's text never reaches a log or a task argument: the task
takes the question's id."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from clinsum.access.selectors import patient_get_for_user
from clinsum.summaries.generation.jobs import job_run
from clinsum.summaries.generation.recovery import job_send, jobs_recover

from .jobs import QUESTION_JOB, backend_identity
from .models import Question, question_text_validate
from .selectors import asking_check

logger = logging.getLogger(__name__)


class QuestionError(Exception):
    """A question that cannot be asked; the message is shown to the person asking."""


def question_ask(*, user, patient_id: int, text: str, enqueue: bool = True) -> Question:
    """A queued question about this patient, asked by `user` (a clinician or nurse who may read
    the chart). `enqueue`: send its task once committed (False: the caller runs question_run)."""
    asking_check(user=user)
    patient = patient_get_for_user(user=user, patient_id=patient_id)
    text = " ".join((text or "").split()) if "\x00" not in (text or "") else text
    try:
        question_text_validate(text)
    except ValidationError as exc:
        raise QuestionError(" ".join(exc.messages)) from None
    backend, model, prompt_version = backend_identity()
    with transaction.atomic():
        question = Question.objects.create(
            patient=patient, asked_by=user, text=text, backend=backend, model=model, prompt_version=prompt_version
        )
        if enqueue:
            transaction.on_commit(lambda: question_enqueue(question=question))
    logger.info("question %s asked of patient %s", question.pk, patient.pk)
    return question


def _question_send(question_id: int) -> None:
    from .tasks import question_answer_task

    question_answer_task.delay(question_id)


def question_enqueue(*, question: Question) -> bool:
    """Send the question's task; False (it stays queued, unsent) when the job queue is down:
    recovery sends it when the queue is back."""
    return job_send(QUESTION_JOB, job=question, send=_question_send)


def questions_recover() -> int:
    """The recovery round for questions (clinsum/recovery.py)."""
    return jobs_recover(QUESTION_JOB, send=_question_send)


def question_run(*, question_id: int) -> Question:
    """Answer the question in this process (what the task calls); returns the row as stored.
    Raises only retryable GenerationErrors; otherwise it ends answered or failed."""
    job_run(QUESTION_JOB, job_id=question_id)
    return Question.objects.get(pk=question_id)
