"""Thin task door (queue `llm`): the draft id in, one service call, idempotent by claiming."""

from celery import shared_task

from clinsum.summaries.jobs import llm_job_run

from .models import Draft
from .services import draft_fail, draft_run


@shared_task(bind=True, acks_late=True, time_limit=660, soft_time_limit=600, max_retries=4)
def draft_generate(self, draft_id: int) -> None:
    llm_job_run(self, model=Draft, job_id=draft_id, run=lambda pk: draft_run(draft_id=pk),
                fail=lambda pk, reason: draft_fail(draft_id=pk, reason=reason))
