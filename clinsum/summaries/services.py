"""Summaries: request (web), run (worker). The run is the grounded-generation job
(clinsum/summaries/generation/jobs.py) with the summary's sections and rows (jobs.SUMMARY_JOB)."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction

from clinsum.charts.models import Note, Patient
from clinsum.summaries.generation.calls import backend_identity
from clinsum.summaries.generation.jobs import job_run
from clinsum.summaries.generation.models import ACTIVE
from clinsum.summaries.generation.recovery import job_is_stuck, job_recover, job_send, jobs_recover

from .jobs import SUMMARY_JOB
from .models import LIVE, Summary, SummaryStatus
from .prompts import CHART_REVIEW


def patient_note_set_hash(*, patient_id: int, note_hashes: str | None = None) -> str:
    """SHA-256 of the patient's note content hashes, sorted, one a line. `note_hashes`: that
    joined text already read (selectors.patients_with_fresh_summary reads many at once)."""
    if note_hashes is None:
        hashes = (
            Note.objects.filter(patient_id=patient_id).order_by("content_hash").values_list("content_hash", flat=True)
        )
        note_hashes = "\n".join(hashes)
    return hashlib.sha256(note_hashes.encode()).hexdigest()


def summary_fingerprint(*, patient_id: int, note_hashes: str | None = None) -> str:
    backend, model, prompt_version = backend_identity(prompt=CHART_REVIEW)
    parts = [patient_note_set_hash(patient_id=patient_id, note_hashes=note_hashes), backend, model, prompt_version]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def summary_request(*, patient: Patient, user) -> tuple[Summary, bool]:
    """A summary of the chart as it is now: the live one if nothing changed (same notes,
    backend, model, prompt), else a new queued one. Returns (summary, created).

    Never a stuck one: a live summary whose task was lost (see generation/recovery.py) has its
    task sent again, or, after its last try, fails and a new one replaces it. Two requests at
    once share one row (the partial unique index summary_one_live_per_fingerprint). When the job
    queue is down the row stays queued, unsent (`enqueued_at` empty), for recovery to send."""
    fingerprint = summary_fingerprint(patient_id=patient.pk)
    live = _summary_live(patient=patient, fingerprint=fingerprint)
    if live is not None and live.status in ACTIVE and job_is_stuck(live):
        if job_recover(SUMMARY_JOB, job_id=live.pk, send=_summary_send):
            live.refresh_from_db()
        else:
            live = _summary_live(patient=patient, fingerprint=fingerprint)
    if live is not None:
        return live, False
    backend, model, prompt_version = backend_identity(prompt=CHART_REVIEW)
    try:
        with transaction.atomic():
            summary = Summary.objects.create(
                patient=patient,
                requested_by=user,
                backend=backend,
                model=model,
                prompt_version=prompt_version,
                fingerprint=fingerprint,
            )
            transaction.on_commit(lambda: summary_enqueue(summary=summary))
    except IntegrityError:
        # Another request created it between our look and our insert: share that one.
        live = _summary_live(patient=patient, fingerprint=fingerprint)
        if live is None:
            raise
        return live, False
    return summary, True


def _summary_live(*, patient: Patient, fingerprint: str) -> Summary | None:
    return (
        Summary.objects.filter(patient=patient, fingerprint=fingerprint, status__in=LIVE)
        .order_by("-created_at", "-id")
        .first()
    )


def summary_retry(*, summary: Summary, user) -> Summary:
    """A failed summary is re-run as a new row, so the failure stays on record."""
    Summary.objects.filter(pk=summary.pk, status=SummaryStatus.FAILED).update(fingerprint="")
    new, _ = summary_request(patient=summary.patient, user=user)
    return new


def _summary_send(summary_id: int) -> None:
    from .tasks import summary_generate

    summary_generate.delay(summary_id)


def summary_enqueue(*, summary: Summary) -> bool:
    """Send the summary's task; False (the row stays queued, unsent) when the job queue is down."""
    return job_send(SUMMARY_JOB, job=summary, send=_summary_send)


def summaries_recover() -> int:
    """The recovery round for summaries (clinsum/recovery.py)."""
    return jobs_recover(SUMMARY_JOB, send=_summary_send)


def summary_run(*, summary_id: int) -> None:
    """Worker side. Never raises for a bad answer: the summary ends `done` or `failed`
    (a retryable backend error is raised for the task to retry)."""
    job_run(SUMMARY_JOB, job_id=summary_id)
