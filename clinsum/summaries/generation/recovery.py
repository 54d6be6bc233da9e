"""Job state lives in the job's row and is recovered from it, not from the broker.

A job's task can be lost: the broker was down when it was sent (the row stays queued with no
`enqueued_at`), the database was down when the task ran and its error handler could not mark
the row, or the whole worker was killed while it ran. The recovery task (clinsum/recovery.py,
every minute on the beat) finds such rows and sends their task again:

- queued and never sent, older than UNSENT_GRACE (the request's own send has had its chance);
- queued and sent more than CLINSUM_RECOVER_AFTER_S ago, and never claimed (the message was lost);
- running and started more than CLINSUM_RECOVER_AFTER_S ago (longer than any task's time limit,
  so its worker is gone).

Each lost delivery counts as a try (`attempts`, which the claim counts too); a job that has
had CLINSUM_MAX_TASK_DELIVERIES tries fails with a reason instead. A send that fails because
the broker is still down does not count: the row stays queued for the next round."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .jobs import JobType, _name, job_fail
from .models import ACTIVE, QUEUED, RUNNING, GenerationJob

logger = logging.getLogger(__name__)

# A queued job whose task was never sent is taken up after this long: the request sends it
# right after its transaction commits, so by then that send has failed.
UNSENT_GRACE = timedelta(seconds=30)
RECOVER_JOBS_MAX = 500  # jobs one round recovers; the next round takes the rest

# Shown on a queued job whose task the job queue has not taken yet.
QUEUE_DOWN = "queued; will start when the job queue is back"

Send = Callable[[int], None]  # sends the job's task for its id (raises kombu OperationalError)


def job_send(job_type: JobType, *, job: GenerationJob, send: Send) -> bool:
    """Hand the job's task to the broker and stamp `enqueued_at`. False when the broker is down:
    the row stays queued, unsent, and recovery sends it when the broker is back."""
    try:
        send(job.pk)
    except BrokerError as exc:
        logger.warning("%s %s not sent: job queue down (%s); recovery will send it", _name(job_type), job.pk, exc)
        return False
    job.enqueued_at = timezone.now()
    job_type.model.objects.filter(pk=job.pk).update(enqueued_at=job.enqueued_at)
    return True


def stuck_filter(*, now: datetime | None = None) -> Q:
    """The jobs whose task is lost (see the module's docstring)."""
    now = now or timezone.now()
    bound = now - timedelta(seconds=settings.CLINSUM_RECOVER_AFTER_S)
    return (
        Q(status=QUEUED, enqueued_at__isnull=True, created_at__lt=now - UNSENT_GRACE)
        | Q(status=QUEUED, enqueued_at__lt=bound)
        | Q(status=RUNNING, started_at__lt=bound)
    )


def job_is_stuck(job: GenerationJob, *, now: datetime | None = None) -> bool:
    return type(job)._default_manager.filter(stuck_filter(now=now), pk=job.pk).exists()


def job_recover(job_type: JobType, *, job_id: int, send: Send) -> bool:
    """Send a stuck job's task again, or fail it after its last try. True while the job is live
    (queued again, or still waiting for the broker); False once it has failed or finished."""
    job = job_type.model.objects.filter(pk=job_id, status__in=ACTIVE).first()
    if job is None:
        return False
    lost = job.status == RUNNING or job.enqueued_at is not None  # a delivery was lost, not a send
    tries = job.attempts + (1 if job.status == QUEUED and job.enqueued_at is not None else 0)
    if lost and tries >= settings.CLINSUM_MAX_TASK_DELIVERIES:
        job_fail(job_type, job_id=job_id, reason=f"gave up after {tries} tries: the worker or the job queue lost it")
        return False
    if lost:
        # Back to queued and unsent, conditionally: a worker that finishes it meanwhile wins.
        # A queued job's lost message is a try its claim never counted.
        moved = job_type.model.objects.filter(
            pk=job_id, status=job.status, started_at=job.started_at, enqueued_at=job.enqueued_at
        ).update(
            status=QUEUED,
            enqueued_at=None,
            attempts=F("attempts") + (1 if job.status == QUEUED else 0),
        )
        if not moved:
            return job_type.model.objects.filter(pk=job_id, status__in=ACTIVE).exists()
        job.refresh_from_db()
    logger.info("recovery sends %s %s again (%d tries so far)", _name(job_type), job_id, job.attempts)
    job_send(job_type, job=job, send=send)
    return True


def jobs_recover(job_type: JobType, *, send: Send, now: datetime | None = None) -> int:
    """One round for one kind of job; returns how many stuck jobs it found."""
    stuck = list(
        job_type.model.objects.filter(stuck_filter(now=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:RECOVER_JOBS_MAX]
    )
    for job_id in stuck:
        job_recover(job_type, job_id=job_id, send=send)
    return len(stuck)
