import hashlib
from datetime import timedelta
from io import StringIO

import psycopg
import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from clinsum.audit.models import AuditEvent
from clinsum.charts.models import Chunk, Note
from clinsum.retention.models import DeletedObject, DeletionReceipt, LegalHold, RetentionPolicy
from clinsum.retention.purge import (
    retention_purge_finish,
    retention_purge_round,
    retention_purge_run,
    retention_purge_start,
)
from clinsum.retention.selectors import retention_plan
from clinsum.summaries.models import Citation, Claim, Summary

from .conftest import NOW, add_note, add_summary


def sql_count(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def orphans() -> dict:
    """Rows whose parent is gone. FKs are checked only at commit, so ask the tables directly."""
    return {
        "chunks": sql_count(
            "SELECT count(*) FROM charts_chunk c WHERE NOT EXISTS (SELECT 1 FROM charts_note n WHERE n.id = c.note_id)"
        ),
        "claims": sql_count(
            "SELECT count(*) FROM summaries_claim c "
            "WHERE NOT EXISTS (SELECT 1 FROM summaries_summary s WHERE s.id = c.summary_id)"
        ),
        "citations": sql_count(
            "SELECT count(*) FROM summaries_citation c "
            "WHERE NOT EXISTS (SELECT 1 FROM summaries_claim cl WHERE cl.id = c.claim_id) "
            "OR NOT EXISTS (SELECT 1 FROM charts_note n WHERE n.id = c.note_id) "
            "OR (c.chunk_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM charts_chunk k WHERE k.id = c.chunk_id))"
        ),
    }


def digest_of(*items: tuple[str, int]) -> str:
    """The receipt's documented format, computed independently: 'kind:id' lines sorted by kind, then id."""
    lines = sorted(items, key=lambda item: (item[0], item[1]))
    return hashlib.sha256("".join(f"{kind}:{object_id}\n" for kind, object_id in lines).encode()).hexdigest()


@pytest.fixture
def chart(ward, progress_policy):
    """p1: two expired progress notes, a recent one, an expired nursing note (no policy);
    a summary citing an expired note and the recent one, and a summary citing only the recent one."""
    old1 = add_note("T-001", "Old progress one: stable overnight.", days_ago=100)
    old2 = add_note("T-001", "Old progress two: afebrile.", days_ago=200)
    recent = add_note("T-001", "Recent progress: walking the ward.", days_ago=1)
    nursing = add_note("T-001", "Old nursing note: turned q2h.", days_ago=300, note_type="nursing")
    mixed = add_summary(ward["p1"], old1, recent)
    fresh = add_summary(ward["p1"], recent)
    return {"old1": old1, "old2": old2, "recent": recent, "nursing": nursing, "mixed": mixed, "fresh": fresh}


def test_it_purges_expired_notes_with_their_chunks_and_the_summaries_citing_them(chart):
    receipt = retention_purge_run(now=NOW)

    assert set(Note.objects.values_list("pk", flat=True)) == {chart["recent"].pk, chart["nursing"].pk}
    assert list(Summary.objects.values_list("pk", flat=True)) == [chart["fresh"].pk]
    assert orphans() == {"chunks": 0, "claims": 0, "citations": 0}
    assert Chunk.objects.count() == 4 and Claim.objects.count() == 1 and Citation.objects.count() == 1
    assert receipt.status == "done"
    assert {k: v for k, v in receipt.counts.items() if v} == {
        "notes": 2,
        "chunks": 4,
        "summaries": 1,
        "claims": 2,
        "citations": 2,
    }


def test_unsigned_drafts_quoting_a_purged_note_go_whole_and_signed_ones_stay(chart, ward, nurse):
    from clinsum.drafting.models import Draft, DraftCitation, DraftSentence

    def draft_citing(note, *, signed_note=None) -> Draft:
        draft = Draft.objects.create(
            patient=ward["p1"],
            author=nurse,
            kind="sbar_handoff",
            backend="extractive",
            status="signed" if signed_note else "ready",
            signed_note=signed_note,
            signed_at=NOW if signed_note else None,
        )
        sentence = DraftSentence.objects.create(
            draft=draft, section="situation", ordinal=0, text="Quoted.", origin="generated", verdict="supported"
        )
        DraftCitation.objects.create(sentence=sentence, note=note, source_id="S1", char_start=0, char_end=5, found=True)
        return draft

    quoting_old = draft_citing(chart["old1"])
    quoting_recent = draft_citing(chart["recent"])
    signed = draft_citing(chart["old2"], signed_note=chart["recent"])
    receipt = retention_purge_run(now=NOW)
    assert set(Draft.objects.values_list("pk", flat=True)) == {quoting_recent.pk, signed.pk}
    assert not DraftCitation.objects.filter(sentence__draft=signed).exists()  # the purged note's citation only
    assert DraftSentence.objects.filter(draft=signed).count() == 1
    assert ("draft", quoting_old.pk) in set(
        DeletedObject.objects.filter(receipt=receipt).values_list("kind", "object_id")
    )
    assert receipt.counts["drafts"] == 1


def test_its_receipt_hash_is_the_sha256_of_the_sorted_deleted_ids(chart):
    receipt = retention_purge_run(now=NOW)
    expected = digest_of(("note", chart["old1"].pk), ("note", chart["old2"].pk), ("summary", chart["mixed"].pk))
    assert receipt.deleted_ids_sha256 == expected
    assert sorted(DeletedObject.objects.filter(receipt=receipt).values_list("kind", "object_id")) == sorted(
        [("note", chart["old1"].pk), ("note", chart["old2"].pk), ("summary", chart["mixed"].pk)]
    )


def test_it_writes_one_audit_event_per_run_without_content(chart):
    receipt = retention_purge_run(now=NOW)
    event = AuditEvent.objects.get(action="retention_purge")
    assert (event.object_type, event.object_id) == ("deletion_receipt", str(receipt.pk))
    assert "notes=2" in event.reason and receipt.deleted_ids_sha256 in event.reason
    assert "stable overnight" not in event.reason and "Old progress" not in event.reason


def test_it_honours_a_legal_hold(chart, ward, admin_user):
    held = add_note("T-002", "Held patient's old note.", days_ago=400)
    LegalHold.objects.create(patient=ward["p2"], reason="Matter 2026-17", placed_by=admin_user)
    retention_purge_run(now=NOW)
    assert Note.objects.filter(pk=held.pk).exists() and held.chunks.count() == 2
    assert not Note.objects.filter(pk=chart["old1"].pk).exists()


def test_a_released_hold_no_longer_protects(chart, ward, admin_user):
    from django.utils import timezone

    held = add_note("T-002", "Held patient's old note.", days_ago=400)
    LegalHold.objects.create(patient=ward["p2"], reason="Matter", placed_by=admin_user, released_at=timezone.now())
    retention_purge_run(now=NOW)
    assert not Note.objects.filter(pk=held.pk).exists()


def test_it_is_idempotent(chart):
    retention_purge_run(now=NOW)
    state = (list(Note.objects.values_list("pk", flat=True)), Chunk.objects.count(), Summary.objects.count())
    second = retention_purge_run(now=NOW)
    assert (list(Note.objects.values_list("pk", flat=True)), Chunk.objects.count(), Summary.objects.count()) == state
    assert not any(second.counts.values()) and second.batches == 0
    assert second.deleted_ids_sha256 == hashlib.sha256(b"").hexdigest()


def test_it_works_in_batches(ward, progress_policy, settings):
    settings.RETENTION_BATCH_SIZE = 2
    notes = [add_note("T-001", f"Expired note number {i}.", days_ago=50 + i) for i in range(5)]
    receipt = retention_purge_run(now=NOW)
    assert receipt.batches == 3 and receipt.counts["notes"] == 5 and receipt.counts["chunks"] == 10
    assert not Note.objects.exists() and orphans()["chunks"] == 0
    assert receipt.deleted_ids_sha256 == digest_of(*[("note", n.pk) for n in notes])


def test_the_celery_task_does_one_round_per_task_and_requeues_itself(
    ward, progress_policy, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from clinsum.retention.tasks import retention_purge

    settings.RETENTION_BATCH_SIZE = 2
    for i in range(5):
        add_note("T-001", f"Expired note number {i}.", days_ago=50 + i)
    queued = []
    monkeypatch.setattr(retention_purge, "apply_async", lambda args, queue: queued.append((args, queue)))
    runs = 0
    next_args = []
    while True:
        with django_capture_on_commit_callbacks(execute=True):
            retention_purge.run(*next_args)
        runs += 1
        if not queued:
            break
        ((next_args, queue),) = queued
        queued.clear()
        assert queue == "default"
    receipt = DeletionReceipt.objects.get()
    assert runs == 3 and receipt.status == "done" and receipt.batches == 3 and receipt.rounds == 3
    assert not Note.objects.exists()
    assert AuditEvent.objects.filter(action="retention_purge").count() == 1
    retention_purge.run(receipt.pk)  # a redelivered task for a finished run does nothing
    assert AuditEvent.objects.filter(action="retention_purge").count() == 1


def test_the_summary_policy_purges_old_finished_summaries(ward, admin_user):
    RetentionPolicy.objects.create(target="summary", keep_days=90)
    note = add_note("T-001", "A note that stays.", days_ago=1)
    old = add_summary(ward["p1"], note)
    running = add_summary(ward["p1"], note, status="running")
    held = add_summary(ward["p2"])
    new = add_summary(ward["p1"], note)
    Summary.objects.filter(pk__in=[old.pk, running.pk, held.pk]).update(created_at=NOW - timedelta(days=91))
    LegalHold.objects.create(patient=ward["p2"], reason="Matter", placed_by=admin_user)
    receipt = retention_purge_run(now=NOW)
    assert set(Summary.objects.values_list("pk", flat=True)) == {running.pk, held.pk, new.pk}
    assert Note.objects.filter(pk=note.pk).exists() and orphans() == {"chunks": 0, "claims": 0, "citations": 0}
    assert receipt.deleted_ids_sha256 == digest_of(("summary", old.pk))


def test_the_session_policy_clears_expired_sessions(db):
    RetentionPolicy.objects.create(target="session", keep_days=1)
    Session.objects.create(session_key="a" * 32, session_data="x", expire_date=NOW - timedelta(days=2))
    Session.objects.create(session_key="b" * 32, session_data="x", expire_date=NOW + timedelta(hours=1))
    receipt = retention_purge_run(now=NOW)
    assert list(Session.objects.values_list("session_key", flat=True)) == ["b" * 32]
    assert receipt.counts["sessions"] == 1
    assert not DeletedObject.objects.exists()  # session keys are never listed


def test_unsigned_drafts_expire_and_signed_ones_stay_with_their_note(ward, nurse, admin_user):
    from clinsum.drafting.models import Draft

    RetentionPolicy.objects.create(target="draft", keep_days=30)
    signed_note = add_note("T-001", "Signed handoff note text.", days_ago=40, note_type="nursing")

    def draft(patient, *, days_ago: int, status: str, note=None) -> Draft:
        made = Draft.objects.create(
            patient=patient,
            author=nurse,
            kind="sbar_handoff",
            backend="extractive",
            status=status,
            signed_note=note,
            signed_at=NOW - timedelta(days=days_ago) if note else None,
        )
        Draft.objects.filter(pk=made.pk).update(created_at=NOW - timedelta(days=days_ago))
        return made

    expired = [draft(ward["p1"], days_ago=31, status="ready"), draft(ward["p1"], days_ago=90, status="failed")]
    kept = [
        draft(ward["p1"], days_ago=29, status="ready"),  # young
        draft(ward["p1"], days_ago=60, status="signed", note=signed_note),  # the note's provenance
        draft(ward["p1"], days_ago=60, status="running"),  # a worker's, until it finishes
        draft(ward["p2"], days_ago=60, status="ready"),  # under a legal hold
    ]
    LegalHold.objects.create(patient=ward["p2"], reason="Matter 7", placed_by=admin_user)
    plan = retention_plan(now=NOW)
    assert [(row.policy.target, row.count, row.held) for row in plan] == [("draft", 2, 1)]
    receipt = retention_purge_run(now=NOW)
    assert set(Draft.objects.values_list("pk", flat=True)) == {d.pk for d in kept}
    assert receipt.counts["drafts"] == 2
    assert set(DeletedObject.objects.filter(receipt=receipt, kind="draft").values_list("object_id", flat=True)) == {
        d.pk for d in expired
    }
    Note.objects.filter(pk=signed_note.pk).delete()  # the note's own policy removes it: its draft goes too
    assert not Draft.objects.filter(pk=kept[1].pk).exists()


def test_an_inactive_policy_purges_nothing(chart, progress_policy):
    RetentionPolicy.objects.filter(pk=progress_policy.pk).update(active=False)
    retention_purge_run(now=NOW)
    assert Note.objects.count() == 4


def test_the_report_is_a_dry_run(chart, ward, admin_user, monkeypatch):
    add_note("T-002", "Held patient's old note.", days_ago=400)
    LegalHold.objects.create(patient=ward["p2"], reason="Matter", placed_by=admin_user)
    monkeypatch.setattr("clinsum.retention.selectors.timezone.now", lambda: NOW)
    before = (Note.objects.count(), Chunk.objects.count(), Summary.objects.count(), AuditEvent.objects.count())
    out = StringIO()
    call_command("retention_report", stdout=out)
    text = out.getvalue()
    assert "progress" in text and "2026-05-04" in text  # the oldest due: 200 days before 2026-11-20
    assert "total due: 2; held back by legal holds: 1" in text
    after = (Note.objects.count(), Chunk.objects.count(), Summary.objects.count(), AuditEvent.objects.count())
    assert after == before and not DeletionReceipt.objects.exists()


def test_the_purge_command_runs_synchronously(chart, monkeypatch):
    monkeypatch.setattr("clinsum.retention.purge.timezone.now", lambda: NOW)
    out = StringIO()
    call_command("retention_purge", "--run", stdout=out)
    assert "done: notes=2" in out.getvalue()
    assert not Note.objects.filter(pk=chart["old1"].pk).exists()


def test_finished_receipts_cannot_be_changed_or_deleted(chart):
    """The app role may only update a running receipt (its trigger refuses a sealed one) and may
    delete none."""
    receipt = retention_purge_run(now=NOW)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE retention_deletionreceipt SET batches = 0")
    for sql in ("DELETE FROM retention_deletionreceipt", "DELETE FROM retention_deletedobject"):
        with pytest.raises(DatabaseError, match="permission denied"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    assert DeletionReceipt.objects.get().pk == receipt.pk


@pytest.mark.django_db(transaction=True)
def test_the_owner_role_is_still_refused_by_the_receipt_triggers(ward, progress_policy):
    """The owner has the rights; the triggers still refuse. (The note goes in with enqueue=False:
    a committed ingest would hand work to the session's worker while the tables are flushed.)"""
    from clinsum.charts.services import notes_ingest
    from tests.conftest import note_record, owner_connection

    notes_ingest(notes=[note_record("T-001", "Old progress: stable.", days_ago=100)], enqueue=False)
    receipt = retention_purge_run(now=NOW)
    assert receipt.status == "done"
    for sql in (
        "UPDATE retention_deletionreceipt SET batches = 0",
        "DELETE FROM retention_deletionreceipt",
        "DELETE FROM retention_deletedobject",
    ):
        with pytest.raises(psycopg.Error, match="append-only"), owner_connection() as conn:
            conn.execute(sql)
    assert DeletionReceipt.objects.get().pk == receipt.pk


def test_model_call_records_go_with_their_summary_and_with_any_note_they_carried(chart):
    """The mixed summary goes (it cites an expired note) and its record with it; the fresh one stays,
    but its record of a call that sent an expired note (retrieved, never cited) goes."""
    from clinsum.summaries.backends import ModelCallRecord
    from clinsum.summaries.generation.calls import model_call_recorder
    from clinsum.summaries.models import ModelCall

    model_call_recorder(summary_id=chart["mixed"].pk)(
        ModelCallRecord(backend="vllm", note_ids=[chart["old1"].pk, chart["recent"].pk], request_body="{}")
    )
    fresh = model_call_recorder(summary_id=chart["fresh"].pk)
    fresh(ModelCallRecord(backend="vllm", note_ids=[chart["old2"].pk, chart["recent"].pk], request_body="{}"))
    fresh(ModelCallRecord(backend="vllm", note_ids=[chart["recent"].pk], request_body="{}"))
    receipt = retention_purge_run(now=NOW)
    assert list(Summary.objects.values_list("pk", flat=True)) == [chart["fresh"].pk]
    assert list(ModelCall.objects.values_list("summary_id", "call_index", "note_ids")) == [
        (chart["fresh"].pk, 2, [chart["recent"].pk])
    ]
    assert receipt.counts["model_calls"] == 2


def interrupted_run(settings, n: int = 5) -> tuple[DeletionReceipt, list[Note]]:
    """A run that did one round (batch size 2) and whose task then died: never finished."""
    settings.RETENTION_BATCH_SIZE = 2
    notes = [add_note("T-001", f"Expired note number {i}.", days_ago=50 + i) for i in range(n)]
    receipt = retention_purge_start(now=NOW)
    assert retention_purge_round(receipt_id=receipt.pk) is True
    return receipt, notes


def test_the_next_run_seals_an_interrupted_receipt_as_partial_with_its_digest(ward, progress_policy, settings):
    old, notes = interrupted_run(settings)
    assert DeletionReceipt.objects.get(pk=old.pk).status == "running"
    new = retention_purge_run(now=NOW)

    old.refresh_from_db()
    assert old.status == "interrupted" and old.finished_at is not None
    assert old.deleted_ids_sha256 == digest_of(*[("note", n.pk) for n in notes[:2]])
    assert old.counts["notes"] == 2 and old.counts["drafts"] == 0
    event = AuditEvent.objects.get(action="retention_purge", object_id=str(old.pk))
    assert "interrupted; sealed by the next run" in event.reason and old.deleted_ids_sha256 in event.reason
    assert new.status == "done" and not Note.objects.exists()
    assert new.deleted_ids_sha256 == digest_of(*[("note", n.pk) for n in notes[2:]])
    assert AuditEvent.objects.filter(action="retention_purge").count() == 2
    # A redelivered task of the dead run finds its receipt sealed and changes nothing.
    assert retention_purge_round(receipt_id=old.pk) is False
    assert retention_purge_finish(receipt_id=old.pk).finished_at == old.finished_at
    assert AuditEvent.objects.filter(action="retention_purge").count() == 2


def test_every_note_a_purge_deletes_has_its_audit_event_even_if_the_run_dies(ward, progress_policy, settings):
    _, notes = interrupted_run(settings)
    events = AuditEvent.objects.filter(action="retention_delete")
    assert sorted(events.values_list("object_type", "object_id", "patient_id")) == sorted(
        ("note", str(n.pk), ward["p1"].pk) for n in notes[:2]
    )
    retention_purge_run(now=NOW)
    assert sorted(events.values_list("object_id", flat=True)) == sorted(str(n.pk) for n in notes)  # one each
    assert not any("Expired note" in reason for reason in events.values_list("reason", flat=True))


def test_the_question_policy_purges_old_answered_questions_and_a_purged_note_takes_its_answers(ward, admin_user):
    from clinsum.asking.models import AnswerCitation, AnswerSentence, Question

    def ask(patient, note=None, status="answered"):
        question = Question.objects.create(patient=patient, text="Any allergies?", backend="extractive", status=status)
        if note is not None:
            sentence = AnswerSentence.objects.create(question=question, ordinal=0, text="x", verdict="supported")
            AnswerCitation.objects.create(sentence=sentence, note=note, source_id="S1", char_start=0, char_end=4)
        return question

    RetentionPolicy.objects.create(target="question", keep_days=90)
    note = add_note("T-001", "A note that stays.", days_ago=1)
    old, running, held, new = ask(ward["p1"], note), ask(ward["p1"], status="running"), ask(ward["p2"]), ask(ward["p1"])
    Question.objects.filter(pk__in=[old.pk, running.pk, held.pk]).update(created_at=NOW - timedelta(days=91))
    LegalHold.objects.create(patient=ward["p2"], reason="Matter", placed_by=admin_user)
    receipt = retention_purge_run(now=NOW)
    assert set(Question.objects.values_list("pk", flat=True)) == {running.pk, held.pk, new.pk}
    assert receipt.deleted_ids_sha256 == digest_of(("question", old.pk)) and receipt.counts["questions"] == 1
    assert Note.objects.filter(pk=note.pk).exists() and not AnswerSentence.objects.filter(question=old.pk).exists()

    quoting = ask(ward["p1"], note)
    Note.objects.filter(pk=note.pk).update(authored_at=NOW - timedelta(days=4000))
    RetentionPolicy.objects.create(target="progress", keep_days=3650)
    retention_purge_run(now=NOW)
    assert not Question.objects.filter(pk=quoting.pk).exists()  # its answer quoted a purged note
