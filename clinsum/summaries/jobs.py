"""The retry policy of jobs that call the language model (summaries, nursing drafts).

A job is a row with `status` (queued/running/...), `error` and `attempts`, and a service that
runs it by id. Retryable backend errors (connection, timeout, 429, 5xx) requeue the row and
retry with backoff; after the last retry, a soft time limit or any other error, the row ends
`failed` with a reason that names no PHI. `attempts` counts only interrupted deliveries and the
last one, so a job whose worker keeps dying is given up (services' claiming)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import F, Model

from .backends import GenerationError

logger = logging.getLogger(__name__)


def llm_job_run(task, *, model: type[Model], job_id: int, run: Callable[[int], None],
                fail: Callable[[int, str], None]) -> None:
    name = model._meta.verbose_name
    try:
        run(job_id)
    except GenerationError as exc:
        if task.request.retries >= task.max_retries:
            fail(job_id, f"{exc} (gave up after {task.request.retries + 1} tries)")
            return
        # This delivery ended cleanly; `attempts` counts only interrupted ones and the last.
        model.objects.filter(pk=job_id).update(status="queued", error=str(exc)[:500], attempts=F("attempts") - 1)
        raise task.retry(countdown=min(60, 2 ** (task.request.retries + 1)))
    except SoftTimeLimitExceeded:
        fail(job_id, "took longer than the time limit")
    except Exception as exc:  # the worker must not die on one bad job; the reason names no PHI
        logger.exception("%s %s crashed", name, job_id)
        fail(job_id, f"internal error ({type(exc).__name__})")
