"""Thin task door (queue `llm`): the draft id in, one service call, idempotent by claiming."""

from celery import shared_task

from clinsum.summaries.generation.jobs import job_task_run

from .jobs import DRAFT_JOB


@shared_task(bind=True, acks_late=True, time_limit=660, soft_time_limit=600, max_retries=4)
def draft_generate(self, draft_id: int) -> None:
    job_task_run(self, DRAFT_JOB, job_id=draft_id)
