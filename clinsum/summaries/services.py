"""Summaries: request (web), run (worker). The run is the grounded-generation job
(clinsum/summaries/generation/jobs.py) with the summary's sections and rows (jobs.SUMMARY_JOB)."""

from __future__ import annotations

import hashlib

from django.db import transaction

from clinsum.charts.models import Note, Patient
from clinsum.summaries.generation.calls import backend_identity
from clinsum.summaries.generation.jobs import job_run

from .jobs import SUMMARY_JOB
from .models import Summary, SummaryStatus
from .prompts import CHART_REVIEW


def patient_note_set_hash(*, patient_id: int) -> str:
    hashes = Note.objects.filter(patient_id=patient_id).order_by("content_hash").values_list("content_hash", flat=True)
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def summary_fingerprint(*, patient_id: int) -> str:
    backend, model, prompt_version = backend_identity(prompt=CHART_REVIEW)
    parts = [patient_note_set_hash(patient_id=patient_id), backend, model, prompt_version]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def summary_request(*, patient: Patient, user) -> tuple[Summary, bool]:
    """A summary of the chart as it is now: the cached one if nothing changed (same notes,
    backend, model, prompt), else a new queued one. Returns (summary, created)."""
    fingerprint = summary_fingerprint(patient_id=patient.pk)
    cached = (
        Summary.objects.filter(patient=patient, fingerprint=fingerprint)
        .exclude(status=SummaryStatus.FAILED)
        .order_by("-created_at")
        .first()
    )
    if cached is not None:
        return cached, False
    backend, model, prompt_version = backend_identity(prompt=CHART_REVIEW)
    with transaction.atomic():
        summary = Summary.objects.create(
            patient=patient,
            requested_by=user,
            backend=backend,
            model=model,
            prompt_version=prompt_version,
            fingerprint=fingerprint,
        )
        transaction.on_commit(lambda: summary_enqueue(summary_id=summary.pk))
    return summary, True


def summary_retry(*, summary: Summary, user) -> Summary:
    """A failed summary is re-run as a new row, so the failure stays on record."""
    Summary.objects.filter(pk=summary.pk, status=SummaryStatus.FAILED).update(fingerprint="")
    new, _ = summary_request(patient=summary.patient, user=user)
    return new


def summary_enqueue(*, summary_id: int) -> None:
    from .tasks import summary_generate

    summary_generate.delay(summary_id)


def summary_run(*, summary_id: int) -> None:
    """Worker side. Never raises for a bad answer: the summary ends `done` or `failed`
    (a retryable backend error is raised for the task to retry)."""
    job_run(SUMMARY_JOB, job_id=summary_id)
