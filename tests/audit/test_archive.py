import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from clinsum.audit.archive import AuditArchiveRefused, audit_archive_create
from clinsum.audit.models import AuditArchive, AuditEvent
from clinsum.audit.services import audit_checkpoint_create, audit_record
from clinsum.audit.verification import audit_archive_file_verify, audit_chain_verify
from tests.conftest import owner_connection

from .conftest import append_event, tamper


@pytest.fixture
def old_and_new_events(transactional_db, clinician):
    """Five events from 2016-2017 (older than six years), then three from today."""
    for i, year in enumerate((2016, 2016, 2017, 2017, 2017)):
        append_event(at=datetime(year, 3, 1 + i, 12, 0, tzinfo=UTC), actor=clinician, patient_id=7)
    return [audit_record(action="chart_view", actor=clinician, patient_id=7) for _ in range(3)]


def archive(before: date, out) -> str:
    buffer = StringIO()
    call_command("audit_archive", "--before", before.isoformat(), "--out", str(out), stdout=buffer)
    return buffer.getvalue()


def test_it_refuses_to_archive_events_younger_than_six_years(old_and_new_events, tmp_path):
    too_recent = timezone.localdate() - timedelta(days=5 * 365)
    with pytest.raises(CommandError, match="kept at least 2192 days"):
        archive(too_recent, tmp_path / "a.jsonl")
    assert AuditEvent.objects.count() == 8
    assert not (tmp_path / "a.jsonl").exists() and not AuditArchive.objects.exists()


def test_it_refuses_a_lower_minimum_from_settings(old_and_new_events, tmp_path, settings):
    settings.AUDIT_MIN_RETENTION_DAYS = 365
    with pytest.raises(AuditArchiveRefused, match="at least 2192 days"):
        audit_archive_create(before=date(2018, 1, 1), out=tmp_path / "a.jsonl")


def test_it_archives_old_events_and_the_chain_still_verifies(old_and_new_events, tmp_path):
    out = tmp_path / "audit-2017.jsonl"
    message = archive(date(2018, 1, 1), out)
    assert "archived events 1-5 (5)" in message

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5]
    anchor = AuditArchive.objects.get()
    assert (anchor.first_seq, anchor.last_seq, anchor.last_hash) == (1, 5, lines[-1]["hash"])
    assert not AuditEvent.objects.filter(seq__lte=5).exists()
    # The remaining rows, the archive's own audit event included, chain from the anchor.
    assert AuditEvent.objects.filter(action="audit_archive").exists()
    report = audit_chain_verify(include_stored=True)
    assert report.ok and report.start_seq == 6 and report.count == 4, report.summary()
    assert audit_archive_file_verify(path=out).ok
    verify = StringIO()
    call_command("audit_verify", "--archive", str(out), stdout=verify)
    assert "audit chain OK: 4 events" in verify.getvalue()


def test_the_first_remaining_row_must_chain_from_the_anchor(old_and_new_events, tmp_path):
    archive(date(2018, 1, 1), tmp_path / "a.jsonl")
    tamper(("DELETE FROM audit_auditevent WHERE seq = 6", []))
    report = audit_chain_verify()
    assert (report.ok, report.first_bad_seq) == (False, 6)


def test_an_edited_archive_file_fails_verification(old_and_new_events, tmp_path):
    out = tmp_path / "a.jsonl"
    archive(date(2018, 1, 1), out)
    out.write_text(out.read_text().replace('"patient_id": 7', '"patient_id": 8', 1))
    assert not audit_archive_file_verify(path=out).ok


def test_a_second_archive_continues_from_the_first(transactional_db, clinician, tmp_path):
    for year in (2015, 2015, 2016, 2016):
        append_event(at=datetime(year, 6, 1, tzinfo=UTC), actor=clinician)
    audit_record(action="chart_view", actor=clinician)
    archive(date(2016, 1, 1), tmp_path / "2015.jsonl")
    archive(date(2017, 1, 1), tmp_path / "2016.jsonl")
    anchors = list(AuditArchive.objects.order_by("first_seq").values_list("first_seq", "last_seq"))
    assert anchors == [(1, 2), (3, 4)]
    assert audit_chain_verify().ok
    assert audit_archive_file_verify(path=tmp_path / "2016.jsonl").ok


def test_nothing_old_enough_is_refused(transactional_db, clinician, tmp_path):
    audit_record(action="chart_view", actor=clinician)
    with pytest.raises(AuditArchiveRefused, match="no events older"):
        audit_archive_create(before=date(2018, 1, 1), out=tmp_path / "a.jsonl")


def test_a_broken_chain_is_not_archived(old_and_new_events, tmp_path):
    tamper(("UPDATE audit_auditevent SET reason = 'x' WHERE seq = 2", []))
    with pytest.raises(AuditArchiveRefused, match="broken"):
        audit_archive_create(before=date(2018, 1, 1), out=tmp_path / "a.jsonl")
    assert AuditEvent.objects.count() == 8 and not (tmp_path / "a.jsonl").exists()


def _delete_with_archive_flag(sql: str) -> None:
    """As the owner (the app role has no DELETE at all): the trigger still guards the archive path."""
    with owner_connection() as conn, conn.transaction():
        conn.execute("SET LOCAL clinsum.audit_archive = 'on'")
        conn.execute(sql)


def test_the_trigger_keeps_young_and_unanchored_events_even_on_the_archive_path(old_and_new_events):
    with pytest.raises(psycopg.Error, match="younger than six years"):
        _delete_with_archive_flag("DELETE FROM audit_auditevent WHERE seq = 8")
    with pytest.raises(psycopg.Error, match="not covered by an archive record"):
        _delete_with_archive_flag("DELETE FROM audit_auditevent WHERE seq = 1")
    with pytest.raises(psycopg.Error, match="append-only"):
        with owner_connection() as conn, conn.transaction():
            conn.execute("SET LOCAL clinsum.audit_archive = 'on'")
            conn.execute("UPDATE audit_auditevent SET reason = 'x' WHERE seq = 1")
    assert AuditEvent.objects.count() == 8


def test_a_checkpoint_after_everything_was_archived_uses_the_anchor(transactional_db, clinician, tmp_path):
    append_event(at=datetime(2015, 1, 1, tzinfo=UTC), actor=clinician)
    append_event(at=datetime(2015, 1, 2, tzinfo=UTC), actor=clinician)
    anchor = audit_archive_create(before=date(2016, 1, 1), out=tmp_path / "a.jsonl")
    # The archive's own audit event (seq 3) chains from the anchor.
    assert AuditEvent.objects.get().seq == 3
    assert audit_checkpoint_create().seq == 3
    assert audit_chain_verify(include_stored=True).ok
    assert anchor.last_seq == 2
