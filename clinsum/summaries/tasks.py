"""Thin task doors (queue `llm`): ids in, one service call, idempotent by claiming."""

from celery import shared_task

from clinsum.summaries.generation.jobs import job_task_run

from .jobs import SUMMARY_JOB


@shared_task(bind=True, acks_late=True, time_limit=660, soft_time_limit=600, max_retries=4)
def summary_generate(self, summary_id: int) -> None:
    job_task_run(self, SUMMARY_JOB, job_id=summary_id)
