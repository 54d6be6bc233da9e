import json
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from clinsum.audit.models import AuditCheckpoint, AuditEvent
from clinsum.audit.services import audit_checkpoint_create, audit_fields, audit_hash, audit_record
from clinsum.audit.verification import Checkpoint, audit_chain_verify, checkpoint_load
from tests.conftest import owner_connection

from .conftest import tamper


def verify_command(*args) -> str:
    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def test_it_passes_an_intact_chain(six_events):
    report = audit_chain_verify(batch_size=2)  # several round trips of the server-side cursor
    assert report.ok and report.count == 6 and report.head_seq == 6
    assert report.head_hash == six_events[-1].hash
    assert verify_command() == f"audit chain OK: 6 events, head {six_events[-1].hash}\n"


def test_it_passes_an_empty_chain(db):
    assert audit_chain_verify().ok
    assert "audit chain OK: 0 events" in verify_command()


def test_it_detects_an_edited_row(six_events):
    tamper(("UPDATE audit_auditevent SET actor_username = 'someone-else' WHERE seq = 3", []))
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "edited" in report.reason
    with pytest.raises(CommandError, match="BROKEN at seq 3"):
        verify_command()


def test_it_detects_a_deleted_row(six_events):
    tamper(("DELETE FROM audit_auditevent WHERE seq = 4", []))
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert "missing" in report.reason


def test_it_detects_two_swapped_rows(six_events):
    tamper(
        ("UPDATE audit_auditevent SET seq = -3 WHERE seq = 3", []),
        ("UPDATE audit_auditevent SET seq = 3 WHERE seq = 4", []),
        ("UPDATE audit_auditevent SET seq = 4 WHERE seq = -3", []),
    )
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 3)


def test_it_detects_a_forged_row_inserted_in_the_middle(six_events, clinician):
    # A careful forger: makes room at seq 4 and gives the forged row a valid hash chained from
    # event 3. The forged row itself checks out; the chain breaks at the row after it.
    tamper(
        ("UPDATE audit_auditevent SET seq = seq + 1000 WHERE seq >= 4", []),
        ("UPDATE audit_auditevent SET seq = seq - 999 WHERE seq >= 1000", []),
    )
    forged = AuditEvent(
        seq=4,
        at=six_events[2].at,
        actor_id=clinician.pk,
        actor_username="alice",
        role="clinician",
        action="chart_view",
        patient_id=999,
        prev_hash=six_events[2].hash,
    )
    forged.hash = audit_hash(forged.prev_hash, audit_fields(forged))
    forged.save(force_insert=True)
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 5)
    assert "prev_hash" in report.reason


def test_it_detects_a_row_appended_with_a_wrong_link(six_events):
    forged = AuditEvent(seq=7, at=six_events[-1].at, action="chart_view", prev_hash="f" * 64)
    forged.hash = audit_hash(forged.prev_hash, audit_fields(forged))
    forged.save(force_insert=True)
    assert audit_chain_verify().first_bad_seq == 7


def _rewrite_from(seq: int) -> None:
    """Edit event `seq` and recompute every hash after it: an internally valid, false chain."""
    tamper(("UPDATE audit_auditevent SET patient_id = 424242 WHERE seq = %s", [seq]))
    events = list(AuditEvent.objects.order_by("seq"))
    prev = events[seq - 2].hash if seq > 1 else events[0].prev_hash
    statements = []
    for event in events[seq - 1 :]:
        digest = audit_hash(prev, audit_fields(event))
        statements.append(
            ("UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s", [prev, digest, event.seq])
        )
        prev = digest
    tamper(*statements)


def test_a_chain_recomputed_from_scratch_is_caught_only_by_a_checkpoint(six_events, tmp_path):
    out = tmp_path / "head.json"
    call_command("audit_checkpoint", "--out", str(out), stdout=StringIO())
    _rewrite_from(2)

    assert audit_chain_verify().ok  # the chain alone looks fine
    report = audit_chain_verify(checkpoints=[checkpoint_load(out)])
    assert (report.ok, report.first_bad_seq) == (False, 6)
    assert "rewritten" in report.reason
    with pytest.raises(CommandError, match="BROKEN at seq 6"):
        verify_command("--checkpoint", str(out), "--no-stored-checkpoints")


def test_a_checkpoint_past_the_head_catches_rows_cut_off_the_end(six_events):
    checkpoint = audit_checkpoint_create()
    tamper(("DELETE FROM audit_auditevent WHERE seq >= 5", []))
    assert audit_chain_verify().ok
    report = audit_chain_verify(include_stored=True)
    assert (report.ok, report.first_bad_seq) == (False, checkpoint.seq)
    assert "removed from the end" in report.reason


def test_checkpoints_verify_and_are_written_as_json(six_events, tmp_path):
    out = tmp_path / "cp.json"
    buffer = StringIO()
    call_command("audit_checkpoint", "--out", str(out), stdout=buffer)
    printed = json.loads(buffer.getvalue())
    written = json.loads(out.read_text())
    assert printed == written
    assert (written["seq"], written["hash"], written["count"]) == (6, six_events[-1].hash, 6)
    assert AuditCheckpoint.objects.get().hash == six_events[-1].hash

    audit_record(action="chart_view", patient_id=1)  # the chain grows past the checkpoint
    verify_out = verify_command("--checkpoint", str(out))
    assert verify_out.startswith("audit chain OK: 7 events") and "checkpoint(s) match" in verify_out


def test_a_bad_checkpoint_file_is_refused(db, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"seq": "x"}')
    with pytest.raises(CommandError, match="seq"):
        verify_command("--checkpoint", str(bad))


def test_a_wrong_checkpoint_hash_is_reported(six_events):
    report = audit_chain_verify(checkpoints=[Checkpoint(seq=2, hash="a" * 64, source="test")])
    assert (report.ok, report.first_bad_seq) == (False, 2)


def test_stored_checkpoints_are_append_only(six_events):
    audit_checkpoint_create()
    for sql in ("UPDATE audit_auditcheckpoint SET hash = 'x'", "DELETE FROM audit_auditcheckpoint"):
        with pytest.raises(DatabaseError, match="permission denied for table audit_auditcheckpoint"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
        with pytest.raises(psycopg.Error, match="append-only"), owner_connection() as conn:
            conn.execute(sql)
