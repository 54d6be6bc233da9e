"""clinsum/recovery.py and clinsum/summaries/generation/recovery.py: job state lives in rows
and is recovered from rows. Each test makes the row an outage leaves behind (or the outage
itself: Redis pointed at a closed socket, PostgreSQL at a missing one), then runs the recovery
round as the beat would."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinsum.charts.models import EmbeddingStatus, Note
from clinsum.charts.services import notes_ingest
from clinsum.recovery import work_recover
from clinsum.summaries.models import Summary
from clinsum.summaries.services import summary_fingerprint, summary_request
from tests.conftest import note_record


def _ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def _past_bound():
    return _ago(settings.CLINSUM_RECOVER_AFTER_S + 60)


def _summary(patient, user, **fields) -> Summary:
    fields.setdefault("fingerprint", "t")
    summary = Summary.objects.create(patient=patient, requested_by=user, backend="extractive", **fields)
    return summary


def _backdate(summary: Summary, **fields) -> None:
    Summary.objects.filter(pk=summary.pk).update(**fields)


# --- Summaries and drafts ----------------------------------------------------------------------


def test_a_summary_left_running_by_a_killed_worker_is_sent_again(ward, clinician):
    # The whole worker was killed: the row stays running, its message waits out the visibility timeout.
    summary = _summary(ward["p1"], clinician, status="running", attempts=1, enqueued_at=_past_bound())
    _backdate(summary, started_at=_past_bound(), created_at=_past_bound())
    found = work_recover()
    assert found["summaries"] == 1
    summary.refresh_from_db()
    assert summary.status == "queued" and summary.attempts == 1
    assert summary.enqueued_at is not None and summary.enqueued_at > _ago(60)  # sent to the real Redis
    assert work_recover()["summaries"] == 0  # freshly sent: not stuck again


def test_a_summary_running_within_its_time_limit_is_left_alone(ward, clinician):
    summary = _summary(ward["p1"], clinician, status="running", attempts=1, enqueued_at=_ago(700))
    _backdate(summary, started_at=_ago(600), created_at=_ago(700))
    assert work_recover()["summaries"] == 0
    summary.refresh_from_db()
    assert summary.status == "running"


def test_a_queued_summary_whose_message_was_lost_counts_a_try_and_is_sent_again(ward, clinician):
    # A database outage: the task failed, its error handler could not mark the row, the message was acked.
    summary = _summary(ward["p1"], clinician, status="queued", enqueued_at=_past_bound())
    _backdate(summary, created_at=_past_bound())
    work_recover()
    summary.refresh_from_db()
    assert (summary.status, summary.attempts) == ("queued", 1)
    assert summary.enqueued_at > _ago(60)


def test_a_job_lost_on_every_try_fails_with_a_reason(ward, clinician):
    tries = settings.CLINSUM_MAX_TASK_DELIVERIES
    summary = _summary(ward["p1"], clinician, status="running", attempts=tries, enqueued_at=_past_bound())
    _backdate(summary, started_at=_past_bound(), created_at=_past_bound())
    work_recover()
    summary.refresh_from_db()
    assert summary.status == "failed"
    assert summary.error == f"gave up after {tries} tries: the worker or the job queue lost it"


def test_a_stuck_draft_is_sent_again(ward, nurse):
    from clinsum.drafting.models import Draft

    draft = Draft.objects.create(patient=ward["p1"], author=nurse, kind="shift", backend="extractive")
    Draft.objects.filter(pk=draft.pk).update(status="running", attempts=1, started_at=_past_bound())
    assert work_recover()["drafts"] == 1
    draft.refresh_from_db()
    assert draft.status == "queued" and draft.enqueued_at is not None


def test_a_summary_never_sent_while_redis_was_down_is_sent_once_redis_is_back(ward, clinician, broker_down):
    summary = _summary(ward["p1"], clinician)
    _backdate(summary, created_at=_ago(120))
    assert work_recover()["summaries"] == 1  # Redis still down: it stays queued, unsent, no try counted
    summary.refresh_from_db()
    assert (summary.status, summary.enqueued_at, summary.attempts) == ("queued", None, 0)


def test_after_redis_returns_the_unsent_summary_is_sent_without_counting_a_try(ward, clinician):
    summary = _summary(ward["p1"], clinician)
    _backdate(summary, created_at=_ago(120))
    work_recover()
    summary.refresh_from_db()
    assert summary.enqueued_at is not None and summary.attempts == 0


# --- summary_request ---------------------------------------------------------------------------


@pytest.fixture
def indexed_chart(ward):
    from clinsum.charts.indexing import notes_index

    result = notes_ingest(notes=[note_record("T-001", "PLAN: Repeat BMP in 3 days.")], enqueue=False)
    notes_index(note_ids=result.note_ids)
    return ward["p1"]


def test_summary_request_never_returns_a_stuck_row_as_cached(indexed_chart, clinician):
    fingerprint = summary_fingerprint(patient_id=indexed_chart.pk)
    stuck = _summary(indexed_chart, clinician, fingerprint=fingerprint, enqueued_at=_past_bound())
    _backdate(stuck, created_at=_past_bound())
    summary, created = summary_request(patient=indexed_chart, user=clinician)
    assert summary.pk == stuck.pk and not created
    assert summary.enqueued_at > _ago(60) and summary.attempts == 1  # sent again, the lost try counted


def test_summary_request_replaces_a_stuck_row_that_has_had_its_tries(indexed_chart, clinician):
    fingerprint = summary_fingerprint(patient_id=indexed_chart.pk)
    stuck = _summary(
        indexed_chart,
        clinician,
        fingerprint=fingerprint,
        status="running",
        attempts=settings.CLINSUM_MAX_TASK_DELIVERIES,
    )
    _backdate(stuck, started_at=_past_bound())
    summary, created = summary_request(patient=indexed_chart, user=clinician)
    assert created and summary.pk != stuck.pk and summary.status == "queued"
    stuck.refresh_from_db()
    assert stuck.status == "failed" and stuck.error.startswith("gave up after")


@pytest.mark.django_db(transaction=True)
def test_two_clinicians_asking_at_once_share_one_summary(indexed_chart, clinician, colleague):
    """The second request looks before the first commits, then inserts: the unique index makes
    it wait for the first and fail, and it returns the first one's row."""
    from django.db import connections, transaction

    fingerprint = summary_fingerprint(patient_id=indexed_chart.pk)
    inserted, release = threading.Event(), threading.Event()

    def first():
        try:
            with transaction.atomic():
                _summary(indexed_chart, clinician, fingerprint=fingerprint)
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    assert inserted.wait(10)
    timer = threading.Timer(1.0, release.set)  # commits while the second insert waits on the index
    timer.start()
    try:
        summary, created = summary_request(patient=indexed_chart, user=colleague)
    finally:
        release.set()
        thread.join(10)
        timer.cancel()
    assert not created
    assert Summary.objects.filter(patient=indexed_chart).count() == 1
    assert summary.pk == Summary.objects.get(patient=indexed_chart).pk


def test_a_second_live_summary_of_the_same_chart_state_is_refused(indexed_chart, clinician):
    from django.db import IntegrityError, transaction

    _summary(indexed_chart, clinician, fingerprint="same", status="done")
    _summary(indexed_chart, clinician, fingerprint="same", status="failed")  # history is not live
    with pytest.raises(IntegrityError), transaction.atomic():
        _summary(indexed_chart, clinician, fingerprint="same")


# --- Redis down when a clinician presses Summarize ----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_redis_down_at_summarize_keeps_the_job_says_so_and_audits(indexed_chart, clinician, client, broker_down):
    from django.urls import reverse

    from clinsum.audit.models import AuditEvent
    from tests.accounts.mfa import login_verified

    login_verified(client, clinician)
    response = client.post(reverse("summary_create", args=[indexed_chart.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "queued; will start when the job queue is back" in response.content.decode()
    summary = Summary.objects.get(patient=indexed_chart)
    assert (summary.status, summary.enqueued_at) == ("queued", None)
    event = AuditEvent.objects.get(action="summary_request")
    assert (event.object_id, event.outcome) == (str(summary.pk), "queue_down")


# --- A database outage inside a job's task -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_in_a_task_leaves_the_row_for_recovery(indexed_chart, clinician, caplog, tmp_path):
    """PostgreSQL is away while the task runs (its socket directory points nowhere): the task
    retries with backoff, never marks the row, and leaves it to recovery, which sends it again."""
    from clinsum.summaries.tasks import summary_generate

    summary = _summary(indexed_chart, clinician, enqueued_at=timezone.now())
    saved = connection.settings_dict["HOST"]
    connection.close()
    connection.settings_dict["HOST"] = str(tmp_path)  # no PostgreSQL socket here
    try:
        result = summary_generate.apply(args=[summary.pk])  # in-process; its retries run at once
    finally:
        connection.close()
        connection.settings_dict["HOST"] = saved
    assert result.successful()
    assert any("left for recovery" in r.getMessage() for r in caplog.records)
    summary.refresh_from_db()
    assert (summary.status, summary.attempts, summary.error) == ("queued", 0, "")
    _backdate(summary, enqueued_at=_past_bound())
    work_recover()
    summary.refresh_from_db()
    assert summary.status == "queued" and summary.enqueued_at > _ago(60)


def test_the_embed_task_retries_a_database_outage():
    from django.db import InterfaceError, OperationalError

    from clinsum.charts.tasks import notes_embed

    assert {OperationalError, InterfaceError} <= set(notes_embed.autoretry_for)
    assert notes_embed.max_retries >= 5 and notes_embed.retry_backoff


# --- Notes pending embedding -------------------------------------------------------------------


def test_notes_pending_embedding_too_long_are_queued_again(ward):
    result = notes_ingest(
        notes=[note_record("T-001", "Note one."), note_record("T-001", "Note two.", days_ago=2)], enqueue=False
    )
    Note.objects.filter(pk=result.note_ids[0]).update(embedding_queued_at=_past_bound())
    assert work_recover()["notes"] == 1  # the other is fresh: its own task may still come
    old, fresh = Note.objects.get(pk=result.note_ids[0]), Note.objects.get(pk=result.note_ids[1])
    assert old.embedding_status == EmbeddingStatus.PENDING and old.embedding_queued_at > _ago(60)
    assert work_recover()["notes"] == 0
    assert fresh.embedding_queued_at < timezone.now()


def test_a_note_that_never_gets_embedded_is_marked_failed_after_the_tries(ward, caplog):
    """A note that crashes the embedder stays pending whatever recovery does: it is queued again
    CLINSUM_EMBED_MAX_TRIES times (counted), then marked failed, logged by id only, and left alone."""
    text = "Poison note the embedder chokes on."
    note_id = notes_ingest(notes=[note_record("T-001", text)], enqueue=False).note_ids[0]
    tries = settings.CLINSUM_EMBED_MAX_TRIES
    for n in range(1, tries + 1):
        Note.objects.filter(pk=note_id).update(embedding_queued_at=_past_bound())
        assert work_recover()["notes"] == 1  # sent to the real Redis; no worker embeds it
        note = Note.objects.get(pk=note_id)
        assert (note.embedding_status, note.embedding_tries) == (EmbeddingStatus.PENDING, n)
    Note.objects.filter(pk=note_id).update(embedding_queued_at=_past_bound())
    caplog.clear()
    assert work_recover()["notes"] == 0
    assert Note.objects.get(pk=note_id).embedding_status == EmbeddingStatus.FAILED
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert f"notes {note_id}" in logged and "marked failed" in logged
    assert "Poison" not in logged and "T-001" not in logged
    assert work_recover()["notes"] == 0  # given up: not queued again
    assert Note.objects.get(pk=note_id).embedding_status == EmbeddingStatus.FAILED


def test_a_note_indexed_at_last_starts_its_tries_again(ward):
    from clinsum.charts.indexing import notes_index
    from tests.retrieval.fakes import FakeEmbedder

    note_id = notes_ingest(notes=[note_record("T-001", "Indexed on the second try.")], enqueue=False).note_ids[0]
    Note.objects.filter(pk=note_id).update(embedding_queued_at=_past_bound())
    assert work_recover()["notes"] == 1
    assert Note.objects.get(pk=note_id).embedding_tries == 1
    notes_index(note_ids=[note_id], embedder=FakeEmbedder(), only_pending=True)
    note = Note.objects.get(pk=note_id)
    assert (note.embedding_status, note.embedding_tries) == (EmbeddingStatus.DONE, 0)


@pytest.mark.django_db(transaction=True)
def test_a_folder_ingest_while_redis_is_down_commits_and_recovery_embeds_later(ward, broker_down):
    """The ingest commits and says nothing went wrong with the notes; the enqueue that failed
    after the commit leaves them pending, and recovery queues them."""
    result = notes_ingest(notes=[note_record("T-001", "Committed while Redis was down.")])
    note = Note.objects.get(pk=result.note_ids[0])
    assert note.embedding_status == EmbeddingStatus.PENDING
    Note.objects.filter(pk=note.pk).update(embedding_queued_at=_past_bound())
    assert work_recover()["notes"] == 0  # still down: nothing queued, the note stays for the next round


def test_the_visibility_timeout_sits_just_above_the_longest_task_time_limit():
    from clinsum.celery import app

    app.loader.import_default_modules()
    limits = [t.time_limit for name, t in app.tasks.items() if name.startswith("clinsum.") and t.time_limit]
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert max(limits) < visibility <= max(limits) + 120
    jobs = ("clinsum.charts.", "clinsum.summaries.", "clinsum.drafting.")
    job_limits = [t.time_limit for name, t in app.tasks.items() if name.startswith(jobs) and t.time_limit]
    assert settings.CLINSUM_RECOVER_AFTER_S > max(job_limits)  # a running job is recovered once its worker is gone
    assert settings.CELERY_BEAT_SCHEDULE["work-recover"]["task"] == "clinsum.recovery.work_recover"
    assert "clinsum.recovery.work_recover" in app.tasks
