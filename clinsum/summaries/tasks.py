"""Thin task doors (queue `llm`): ids in, one service call, idempotent by claiming."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import F

from .backends import GenerationError
from .services import summary_fail, summary_run

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, time_limit=660, soft_time_limit=600, max_retries=4)
def summary_generate(self, summary_id: int) -> None:
    try:
        summary_run(summary_id=summary_id)
    except GenerationError as exc:  # retryable: connection errors, 429, 5xx
        if self.request.retries >= self.max_retries:
            summary_fail(summary_id=summary_id, reason=f"{exc} (gave up after {self.request.retries + 1} tries)")
            return
        from .models import Summary, SummaryStatus

        # This delivery ended cleanly; `attempts` counts only interrupted ones and the last.
        Summary.objects.filter(pk=summary_id).update(
            status=SummaryStatus.QUEUED, error=str(exc)[:500], attempts=F("attempts") - 1
        )
        raise self.retry(countdown=min(60, 2 ** (self.request.retries + 1)))
    except SoftTimeLimitExceeded:
        summary_fail(summary_id=summary_id, reason="took longer than the time limit")
    except Exception as exc:  # the worker must not die on one bad summary; the reason names no PHI
        logger.exception("summary %s crashed", summary_id)
        summary_fail(summary_id=summary_id, reason=f"internal error ({type(exc).__name__})")
