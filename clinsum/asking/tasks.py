"""Thin task door (queue `llm`): the question id in (never its text), one service call,
idempotent by claiming."""

from celery import shared_task

from clinsum.summaries.generation.jobs import job_task_run

from .jobs import QUESTION_JOB


@shared_task(bind=True, acks_late=True, time_limit=660, soft_time_limit=600, max_retries=4)
def question_answer_task(self, question_id: int) -> None:
    job_task_run(self, QUESTION_JOB, job_id=question_id)
