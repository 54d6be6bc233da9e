"""Thin task door (queue `llm`): the draft id in, one service call, idempotent by claiming."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import F

from clinsum.summaries.backends import GenerationError

from .services import draft_fail, draft_run

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, time_limit=660, soft_time_limit=600, max_retries=4)
def draft_generate(self, draft_id: int) -> None:
    try:
        draft_run(draft_id=draft_id)
    except GenerationError as exc:  # retryable: connection errors, 429, 5xx
        if self.request.retries >= self.max_retries:
            draft_fail(draft_id=draft_id, reason=f"{exc} (gave up after {self.request.retries + 1} tries)")
            return
        from .models import Draft, DraftStatus

        Draft.objects.filter(pk=draft_id).update(status=DraftStatus.QUEUED, error=str(exc)[:500],
                                                 attempts=F("attempts") - 1)
        raise self.retry(countdown=min(60, 2 ** (self.request.retries + 1)))
    except SoftTimeLimitExceeded:
        draft_fail(draft_id=draft_id, reason="took longer than the time limit")
    except Exception as exc:  # one bad draft must not kill the worker; the reason names no PHI
        logger.exception("draft %s crashed", draft_id)
        draft_fail(draft_id=draft_id, reason=f"internal error ({type(exc).__name__})")
