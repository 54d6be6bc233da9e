"""The life of a grounded-generation job, whatever it writes: claim the row, gather this
patient's sources, call the backend (every call recorded), verify every claim and store the
job's rows, or fail with a reason that names no PHI; and the task's retry policy around it.

A kind of job is a JobType: its model (a GenerationJob with a `patient`), the status a stored
job takes, the ModelCall column that points at it, the reason it fails on a chart with no
indexed notes, and two hooks, `plan` (sections and prompt) and `rows_store` (the kind's rows
for the verified claims). Summaries and nurses' drafts are two JobTypes; a third kind of
grounded text (an answer to a chart question, a physician note) is a third JobType, not a
third pipeline.

queued -> running (claimed by a conditional UPDATE that counts deliveries) -> stored, or
failed. A retryable backend error (connection, timeout, 429, 5xx) puts a running job back to
queued and the task retries with backoff; after the last retry, a soft time limit or any other
error, the job fails. `attempts` counts only interrupted deliveries and the last one, so a job
whose worker keeps dying is given up when it is claimed again."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from clinsum.access.selectors import access_scope, may_read
from clinsum.summaries.backends import GeneratedClaim, Generation, GenerationError
from clinsum.summaries.prompts import PromptSpec, not_documented
from clinsum.summaries.sections import SummarySection
from clinsum.summaries.verification import ClaimCheck, claim_verify
from retrieval.types import Hit

from .calls import grounded_generate, model_call_recorder
from .models import ACTIVE, FAILED, QUEUED, RUNNING, GenerationJob
from .sources import patient_index_pending, sources_retrieve

logger = logging.getLogger(__name__)

# Why a summary or draft fails when the person who asked lost the chart before the worker ran.
REQUESTER_OUT_OF_SCOPE = "the person who asked for it may no longer read this chart"

# An outage of the database or the broker, not a fault of the job: retried, never failed for.
OUTAGES = (OperationalError, InterfaceError, BrokerError)


@dataclass(frozen=True)
class Plan:
    """What one job asks of the backend."""

    sections: tuple[SummarySection, ...]
    prompt: PromptSpec
    chart_facts: bool = False  # vLLM: the chart reader's findings lead each section's sources


class JobType(Protocol):
    model: Any  # the concrete GenerationJob model (Summary, Draft)
    requester: str  # the job's user field: retrieval reads as this user ("requested_by", "author")
    stored: str  # the status of a job whose rows are stored ("done", "ready")
    call_owner: str  # the summaries.ModelCall column that points at the job ("summary_id")
    no_sources: str  # the reason shown when the chart has no indexed notes
    # Optional hooks (an answer to a question): `sources_retrieve(job=, scope=)` -> (sources,
    # section_sources) and `generate(job=, sources=, section_sources=, record=)` -> Generation,
    # in place of the sections' retrieval and grounded_generate.

    def plan(self, job: Any) -> Plan: ...

    def rows_store(
        self, *, job: Any, verified: list[tuple[GeneratedClaim, ClaimCheck]], sources: dict[str, Hit]
    ) -> dict[str, Any]:
        """Create the kind's rows in the store's transaction; returns more fields of the job row."""
        ...


def _name(job_type: JobType) -> str:
    return str(job_type.model._meta.model_name)


def job_claim(job_type: JobType, *, job_id: int) -> GenerationJob | None:
    """Claim the job; counts deliveries so a job whose worker keeps dying ends `failed`."""
    claimed = job_type.model.objects.filter(pk=job_id, status__in=ACTIVE).update(
        status=RUNNING, attempts=F("attempts") + 1, started_at=timezone.now()
    )
    if not claimed:
        return None  # already finished (a redelivery after completion): nothing to do
    job = job_type.model.objects.select_related("patient", job_type.requester).get(pk=job_id)
    if job.attempts > settings.CLINSUM_MAX_TASK_DELIVERIES:
        job_fail(job_type, job_id=job_id, reason=f"gave up after {job.attempts - 1} interrupted attempts")
        return None
    return job


def job_fail(job_type: JobType, *, job_id: int, reason: str) -> None:
    """Only a job still in progress fails: a stored job stays stored, a failed one keeps its first reason."""
    job_type.model.objects.filter(pk=job_id, status__in=ACTIVE).update(
        status=FAILED, error=reason[:500], finished_at=timezone.now()
    )
    logger.warning("%s %s failed: %s", _name(job_type), job_id, reason)


def job_requeue(job_type: JobType, *, job_id: int, reason: str) -> bool:
    """A running job back to queued for the task's retry. False if it is no longer running
    (another delivery stored or failed it meanwhile): then there is nothing to retry."""
    # This delivery ended cleanly; `attempts` counts only interrupted ones and the last.
    return bool(
        job_type.model.objects.filter(pk=job_id, status=RUNNING).update(
            status=QUEUED, error=reason[:500], attempts=F("attempts") - 1
        )
    )


def job_run(job_type: JobType, *, job_id: int) -> None:
    """Worker side. Raises only retryable GenerationErrors; otherwise the job ends stored or failed."""
    job = job_claim(job_type, job_id=job_id)
    if job is None:
        return
    # Retrieval reads as the person who asked, under the access rule as it stands now: the scope
    # goes inside the SQL, and a requester who lost the chart since asking gets nothing.
    requester = getattr(job, job_type.requester)
    if requester is None or not may_read(user=requester, patient_id=job.patient_id):
        job_fail(job_type, job_id=job.pk, reason=REQUESTER_OUT_OF_SCOPE)
        return
    started = time.monotonic()
    plan = job_type.plan(job)
    patient_index_pending(patient_id=job.patient_id)
    scope = access_scope(user=requester)
    # A kind that is not sections of a chart (an answer to a question) retrieves and generates
    # with its own hooks; the job's life around them (claim, scope, record, verify, store) is this.
    retrieve = getattr(job_type, "sources_retrieve", None)
    if retrieve is not None:
        sources, section_sources = retrieve(job=job, scope=scope)
    else:
        sources, section_sources = sources_retrieve(
            patient_id=job.patient_id,
            scope=scope,
            sections=plan.sections,
            whole_chart=job.backend == "extractive",
            chart_facts=plan.chart_facts and job.backend == "vllm",
        )
    if not sources:
        job_fail(job_type, job_id=job.pk, reason=job_type.no_sources)
        return
    record = model_call_recorder(**{job_type.call_owner: job.pk})
    try:
        generate = getattr(job_type, "generate", None)
        if generate is not None:
            generation = generate(job=job, sources=sources, section_sources=section_sources, record=record)
        else:
            generation = grounded_generate(
                backend=job.backend,
                sections=plan.sections,
                sources=sources,
                section_sources=section_sources,
                prompt=plan.prompt,
                record=record,
            )
    except GenerationError as exc:
        if exc.retryable:
            raise
        job_fail(job_type, job_id=job.pk, reason=str(exc))
        return
    job_store(
        job_type, job=job, generation=generation, sources=sources, latency_ms=int((time.monotonic() - started) * 1000)
    )


def job_store(
    job_type: JobType, *, job: GenerationJob, generation: Generation, sources: dict[str, Hit], latency_ms: int
) -> None:
    """Every claim verified against this patient's sources, then the kind's rows, in one transaction."""
    with transaction.atomic():
        locked = job_type.model.objects.select_for_update().get(pk=job.pk)
        if locked.status != RUNNING:
            return  # another delivery finished it
        # "Not documented." is the model declining to guess, not a claim: the section stays empty.
        claims = [c for c in generation.claims if not (not c.citations and not_documented(c.text))]
        verified = [(c, claim_verify(claim=c, sources=sources, patient_id=job.patient_id)) for c in claims]
        fields = job_type.rows_store(job=job, verified=verified, sources=sources)
        job_type.model.objects.filter(pk=job.pk).update(
            status=job_type.stored,
            finished_at=timezone.now(),
            latency_ms=latency_ms,
            model=generation.model[:200],
            prompt_version=generation.prompt_version,
            tokens_in=generation.tokens_in,
            tokens_out=generation.tokens_out,
            **fields,
        )
    logger.info("%s %s %s: %d claims, %d ms", _name(job_type), job.pk, job_type.stored, len(claims), latency_ms)


def _backoff(task) -> int:
    return min(60, 2 ** (task.request.retries + 1))


def _fail_or_leave(job_type: JobType, *, job_id: int, reason: str) -> None:
    """job_fail, unless the database is away too: then the row stays queued or running and the
    recovery task (generation/recovery.py) takes it up once the database is back."""
    try:
        job_fail(job_type, job_id=job_id, reason=reason)
    except DatabaseError as exc:  # logged: the job's kind and id, and the error's class only
        logger.warning(
            "%s %s left for recovery: cannot mark it failed (%s)", _name(job_type), job_id, type(exc).__name__
        )


def job_task_run(task, job_type: JobType, *, job_id: int) -> None:
    """The body of a job's Celery task (bind=True, acks_late, time limits, max_retries).

    A database or broker outage (OperationalError) is retried with backoff, without touching
    the row; after the last retry the row is left for recovery, which re-queues it."""
    try:
        job_run(job_type, job_id=job_id)
    except GenerationError as exc:
        if task.request.retries >= task.max_retries:
            _fail_or_leave(job_type, job_id=job_id, reason=f"{exc} (gave up after {task.request.retries + 1} tries)")
            return
        try:
            requeued = job_requeue(job_type, job_id=job_id, reason=str(exc))
        except DatabaseError:
            requeued = True  # the row is still running: retry it (recovery would otherwise)
        if requeued:
            raise task.retry(countdown=_backoff(task)) from exc
    except OUTAGES as exc:
        if task.request.retries >= task.max_retries:
            logger.warning("%s %s left for recovery after %s", _name(job_type), job_id, type(exc).__name__)
            return
        logger.warning("%s %s retried after %s", _name(job_type), job_id, type(exc).__name__)
        raise task.retry(countdown=_backoff(task)) from exc
    except SoftTimeLimitExceeded:
        _fail_or_leave(job_type, job_id=job_id, reason="took longer than the time limit")
    except Exception as exc:  # the worker must not die on one bad job; the reason names no PHI
        logger.exception("%s %s crashed", _name(job_type), job_id)
        _fail_or_leave(job_type, job_id=job_id, reason=f"internal error ({type(exc).__name__})")
