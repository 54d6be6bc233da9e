"""Thin task doors (queue `llm`): ids in, one service call, idempotent by claiming."""

from celery import shared_task

from .jobs import llm_job_run
from .models import Summary
from .services import summary_fail, summary_run


@shared_task(bind=True, acks_late=True, time_limit=660, soft_time_limit=600, max_retries=4)
def summary_generate(self, summary_id: int) -> None:
    llm_job_run(self, model=Summary, job_id=summary_id, run=lambda pk: summary_run(summary_id=pk),
                fail=lambda pk, reason: summary_fail(summary_id=pk, reason=reason))
