"""Checkpoints written by beat to the checkpoint directory, and audit_verify comparing with the
newest one by default: the two tamperings the red-team did (a row edited and the rest re-hashed;
the last events cut off) are caught without anyone passing a file."""

import json
import os
import stat
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from clinsum.audit.checkpoints import checkpoint_file_write, checkpoint_newest
from clinsum.audit.services import audit_record
from clinsum.audit.tasks import audit_checkpoint
from clinsum.celery import app

from .conftest import tamper
from .test_verify import _rewrite_from


def verify() -> str:
    out = StringIO()
    call_command("audit_verify", "--no-stored-checkpoints", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_beat_runs_the_checkpoint_task_on_the_default_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == audit_checkpoint.name and entry["task"] in app.tasks
    assert entry["schedule"].total_seconds() == settings.AUDIT_CHECKPOINT_EVERY_MIN * 60
    assert entry["options"]["queue"] == "default"


def test_the_task_writes_a_new_read_only_file_each_time(six_events):
    first = audit_checkpoint()
    audit_record(action="chart_view", patient_id=1)
    second = audit_checkpoint()
    directory = settings.AUDIT_CHECKPOINT_DIR
    assert first != second and sorted(p.name for p in directory.iterdir()) == sorted([first, second])
    data = json.loads((directory / second).read_text())
    assert (data["seq"], data["count"]) == (7, 7)
    assert stat.S_IMODE(os.stat(directory / second).st_mode) == 0o444
    assert checkpoint_newest().seq == 7


def test_a_checkpoint_file_is_never_overwritten(six_events, monkeypatch):
    from clinsum.audit import checkpoints
    from clinsum.audit.models import AuditCheckpoint

    path = checkpoint_file_write()
    before = path.read_bytes()
    same = AuditCheckpoint.objects.get()
    monkeypatch.setattr(checkpoints, "audit_checkpoint_create", lambda: same)  # same head, same instant
    with pytest.raises(FileExistsError):
        checkpoint_file_write()
    assert path.read_bytes() == before


def test_verify_by_default_catches_a_chain_rewritten_from_scratch(six_events):
    audit_checkpoint()
    assert verify().startswith("audit chain OK: 6 events")
    _rewrite_from(2)
    with pytest.raises(CommandError, match="BROKEN at seq 6.*rewritten"):
        verify()


def test_verify_by_default_catches_events_cut_off_the_end(six_events):
    audit_checkpoint()
    tamper(("DELETE FROM audit_auditevent WHERE seq >= 5", []))
    with pytest.raises(CommandError, match="removed from the end"):
        verify()


def test_verify_uses_the_newest_file(six_events):
    audit_checkpoint()
    for _ in range(2):
        audit_record(action="chart_view", patient_id=1)
    audit_checkpoint()
    assert checkpoint_newest().seq == 8
    tamper(("DELETE FROM audit_auditevent WHERE seq = 8", []))  # only the newest checkpoint sees this
    with pytest.raises(CommandError, match="seq 8"):
        verify()


def test_verify_says_when_there_is_no_checkpoint_file(six_events):
    err = StringIO()
    call_command("audit_verify", stdout=StringIO(), stderr=err)
    assert "no checkpoint file in" in err.getvalue()


def test_a_damaged_checkpoint_file_is_an_error(six_events):
    directory = settings.AUDIT_CHECKPOINT_DIR
    directory.mkdir(parents=True)
    (directory / "audit-checkpoint-000000000009-x.json").write_text("not json")
    with pytest.raises(CommandError, match="cannot read checkpoint"):
        verify()
