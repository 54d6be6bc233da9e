"""Backup and restore as the operator does it: deploy/backup.sh (pg_dump -Fc) against the test
PostgreSQL, deploy/restore.sh (pg_restore into a fresh database, migrate --check, audit_verify)
with manage.py pointed at the restored database. Then the restored copy is compared row for row
with the original and its audit table is tampered with, to show audit_verify notices."""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pgserver
import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from clinsum.audit.services import audit_record
from clinsum.charts.indexing import embedder_get, notes_index
from clinsum.charts.services import notes_ingest
from tests.conftest import ROOT, note_record

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump runs in another process: data must be committed

PG_BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"
BACKUP_SH = ROOT / "deploy" / "backup.sh"
RESTORE_SH = ROOT / "deploy" / "restore.sh"

# Bytes that a careless dump or restore (encoding, line endings, trailing blanks) would change.
NOTE_TEXTS = [
    "ASSESSMENT: Acute on chronic systolic heart failure. Ejection fraction 30%.\r\n"
    "PLAN: Furosemide 40 mg IV twice daily; weight daily.   \r\n",
    "MEDICATIONS: Levothyroxine 88 µg daily. Tmax 38.4 °C overnight; SpO₂ ≥ 94 % on 2 L.\n\n"
    "Patient (Zoë Ångström) prefers \"Zo\u00eb\" \u2014 interpreter for Portuguese: n\u00e3o.\t\n",
    "ALLERGIES: Penicillin causes hives. No known latex allergy.\n" + "Line with a backslash \\N and a tab\tend.\n",
]


def _pg_conn_settings() -> dict:
    db = connection.settings_dict
    return {"host": db["HOST"], "user": db["USER"], "port": db["PORT"] or None}


def pg_connect(dbname: str) -> psycopg.Connection:
    return psycopg.connect(dbname=dbname, autocommit=True, **_pg_conn_settings())


def script_env(*, database: str) -> dict:
    """What an operator's shell would hold: libpq variables, the PostgreSQL client tools on PATH,
    and manage.py pointed at `database` (CLINSUM_DB_NAME plays DATABASE_URL's part here)."""
    conn = _pg_conn_settings()
    env = dict(os.environ)
    env.update(PATH=f"{PG_BIN}:{env['PATH']}", PGHOST=conn["host"], PGUSER=conn["user"], PGDATABASE=database,
               CLINSUM_DB_NAME=database, MANAGE=f"{sys.executable} {ROOT / 'manage.py'}")
    env.pop("PGPORT", None)
    env.pop("PG_EXEC", None)
    return env


def run(args: list, *, database: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=ROOT, env=script_env(database=database),
                          capture_output=True, text=True, timeout=300)


def manage(*args: str, database: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], database=database)


def snapshot(dbname: str) -> dict:
    """The rows a restore must bring back unchanged, read the same way from both databases.
    vector_send gives the stored pgvector bytes (dimension header + float4s), not a rounded text form."""
    with pg_connect(dbname) as conn:
        return {
            "notes": conn.execute("SELECT id, patient_id, text, content_hash, convert_to(text, 'UTF8')"
                                  " FROM charts_note ORDER BY id").fetchall(),
            "chunks": conn.execute("SELECT id, note_id, ordinal, char_start, char_end, text, vector_send(embedding),"
                                   " embedding_model, embedding_dim FROM charts_chunk ORDER BY id").fetchall(),
            "audit": conn.execute("SELECT seq, at, actor_id, action, patient_id, prev_hash, hash"
                                  " FROM audit_auditevent ORDER BY seq").fetchall(),
            "checkpoints": conn.execute("SELECT seq, hash, count FROM audit_auditcheckpoint ORDER BY id").fetchall(),
        }


@pytest.fixture
def chart(ward, clinician, tmp_path):
    """Notes, their chunks and embeddings (the embed worker's code, run here), audit events written
    through audit_record, and a checkpoint kept 'off the box' in tmp_path."""
    patient = ward["p1"]
    result = notes_ingest(notes=[note_record("T-001", text, days_ago=i + 1) for i, text in enumerate(NOTE_TEXTS)],
                          enqueue=False)
    assert notes_index(note_ids=result.note_ids, embedder=embedder_get()) >= len(NOTE_TEXTS)
    for note_id in result.note_ids:
        audit_record(action="note_view", actor=clinician, patient_id=patient.pk, object_type="note", object_id=note_id)
    audit_record(action="chart_view", actor=clinician, patient_id=patient.pk, object_type="patient",
                 object_id=patient.pk)
    checkpoint = tmp_path / "checkpoint.json"
    call_command("audit_checkpoint", "--out", str(checkpoint), stdout=StringIO())
    return {"patient": patient, "note_ids": result.note_ids, "checkpoint": checkpoint,
            "source": connection.settings_dict["NAME"]}


@pytest.fixture
def backup(chart, tmp_path) -> Path:
    out = tmp_path / "backups"
    out.mkdir()
    result = run([BACKUP_SH, out], database=chart["source"])
    assert result.returncode == 0, result.stderr
    dump = Path(result.stdout.strip())
    assert dump.parent == out and dump.name.startswith(f"clinsum-{chart['source']}-") and dump.suffix == ".dump"
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    digest, name = (dump.parent / f"{dump.name}.sha256").read_text().split()
    assert (digest, name) == (hashlib.sha256(dump.read_bytes()).hexdigest(), dump.name)
    return dump


@pytest.fixture
def empty_database():
    name = f"clinsum_restore_{secrets.token_hex(4)}"
    with pg_connect("postgres") as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with pg_connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def restored(chart, backup, empty_database) -> dict:
    result = run([RESTORE_SH, backup, "--checkpoint", chart["checkpoint"]], database=empty_database)
    assert result.returncode == 0, result.stdout + result.stderr
    return {"database": empty_database, "output": result.stdout}


def test_a_restored_backup_has_the_same_notes_embeddings_and_audit_chain(chart, restored):
    source, copy = snapshot(chart["source"]), snapshot(restored["database"])
    assert len(source["notes"]) == len(NOTE_TEXTS) and len(source["chunks"]) >= len(NOTE_TEXTS)
    assert {row[2] for row in copy["notes"]} == set(NOTE_TEXTS)  # the texts as ingested, CRs and all
    assert copy["notes"] == source["notes"]
    vectors = [row[6] for row in copy["chunks"]]
    assert all(len(v) == 4 + 384 * 4 for v in vectors)  # int16 dim + int16 unused + 384 float4
    assert len(set(vectors)) == len(vectors)  # real, distinct embeddings, not placeholders
    assert copy["chunks"] == source["chunks"]
    assert copy["audit"] == source["audit"] and len(copy["audit"]) == len(chart["note_ids"]) + 1
    assert copy["checkpoints"] == source["checkpoints"]

    head_seq, head_hash = source["audit"][-1][0], source["audit"][-1][-1]
    assert "migrate --check" in restored["output"]
    assert f"audit chain OK: {head_seq} events, head {head_hash}; 2 checkpoint(s) match" in restored["output"]


def test_audit_verify_fails_when_a_restored_audit_row_is_edited(restored):
    database = restored["database"]
    with pg_connect(database) as conn:
        # The append-only trigger came back with the data ...
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("UPDATE audit_auditevent SET actor_username = 'someone-else' WHERE seq = 2")
        # ... so tamper as the table's owner would: switch it off, edit, switch it on.
        with conn.transaction():
            conn.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
            conn.execute("UPDATE audit_auditevent SET actor_username = 'someone-else' WHERE seq = 2")
            conn.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")

    result = manage("audit_verify", database=database)
    assert result.returncode != 0
    assert "audit chain BROKEN at seq 2" in result.stderr and "edited" in result.stderr


def test_a_checkpoint_taken_after_the_backup_shows_what_the_restore_lost(chart, restored, tmp_path):
    audit_record(action="chart_view", patient_id=chart["patient"].pk, object_type="patient",
                 object_id=chart["patient"].pk)
    later = tmp_path / "later-checkpoint.json"
    call_command("audit_checkpoint", "--out", str(later), stdout=StringIO())

    result = manage("audit_verify", "--checkpoint", str(later), database=restored["database"])
    assert result.returncode != 0
    assert "events were removed from the end" in result.stderr
    assert manage("audit_verify", "--checkpoint", str(later), database=chart["source"]).returncode == 0


def test_restore_refuses_a_database_that_is_not_empty(chart, backup):
    result = run([RESTORE_SH, backup], database=chart["source"])
    assert result.returncode == 1
    assert "restore only into an empty database" in result.stderr
    assert "3/5" not in result.stdout  # stopped before pg_restore


def test_restore_refuses_a_dump_that_does_not_match_its_checksum(backup, empty_database, tmp_path):
    damaged = tmp_path / backup.name
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    (tmp_path / f"{backup.name}.sha256").write_bytes((backup.parent / f"{backup.name}.sha256").read_bytes())

    result = run([RESTORE_SH, damaged], database=empty_database)
    assert result.returncode != 0 and "2/5" not in result.stdout
    with pg_connect(empty_database) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


def test_the_scripts_print_their_usage():
    for script in (BACKUP_SH, RESTORE_SH):
        result = subprocess.run([str(script)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and result.stderr.startswith(f"usage: deploy/{script.name}")
        assert "set -euo pipefail" in script.read_text()
