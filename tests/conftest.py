"""Shared fixtures: named actors, a ward, the shared data sets, a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
PASSWORD = "correct-horse-battery-staple"


def shared_data(*parts: str) -> Path:
    """A path in ../shared/data; missing data fails in CI and skips locally."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing in CI: {path}")
        pytest.skip(f"shared data not present: {path}")
    return path


@pytest.fixture(autouse=True)
def _fast_password_hashing(request, settings):
    """Argon2 costs about 0.1 s a hash and the suite makes thousands of users and logins: tests
    hash with MD5 (Django's advice for tests). Production keeps Argon2; a test that checks the
    stored algorithm is marked `real_hashers`."""
    if request.node.get_closest_marker("real_hashers") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _audit_checkpoint_dir(settings, tmp_path):
    """Each test has its own scheduled-checkpoint directory (audit_verify reads the newest file)."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


def owner_connection():
    """A psycopg connection (autocommit) to the test database as the owner role: what an
    operator or the migrate job holds, never the app. Sees committed rows only."""
    import psycopg
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        host=db["HOST"],
        port=db["PORT"] or None,
        autocommit=True,
        user=settings.DATABASE_OWNER["USER"],
        password=settings.DATABASE_OWNER["PASSWORD"] or None,
    )


@pytest.fixture
def make_user(django_user_model):
    def make(username: str, role: str, unit: str = "", **extra):
        return django_user_model.objects.create_user(
            username=username,
            password=PASSWORD,
            role=role,
            unit=unit,
            first_name=username.capitalize(),
            last_name="Test",
            **extra,
        )

    return make


@pytest.fixture
def clinician(make_user):
    """Alice: clinician on unit 4W."""
    return make_user("alice", "clinician", "4W")


@pytest.fixture
def colleague(make_user):
    """Cora: another clinician on 4W, Alice's colleague (same unit, same charts)."""
    return make_user("cora", "clinician", "4W")


@pytest.fixture
def nurse(make_user):
    return make_user("nina", "nurse", "4W")


@pytest.fixture
def outsider(make_user):
    """Charlie: clinician on another unit, should have no access to 4W charts."""
    return make_user("charlie", "clinician", "ICU")


@pytest.fixture
def admin_user(make_user):
    return make_user("adam", "admin")


@pytest.fixture
def privacy_officer(make_user):
    return make_user("priya", "privacy_officer")


@pytest.fixture
def adam(admin_user):
    """A browser logged in as the administrator, with a verified TOTP device."""
    from django.test import Client

    from tests.accounts.mfa import login_verified

    return login_verified(Client(), admin_user)


def note_record(mrn: str, text: str, *, days_ago: int = 1, note_type: str = "progress", line: int | None = None):
    from clinsum.charts.records import NoteRecord

    return NoteRecord(
        mrn=mrn,
        note_type=note_type,
        text=text,
        author="Dr. Test",
        author_role="Attending physician",
        authored_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC) - timedelta(days=days_ago),
        line=line,
    )


@pytest.fixture
def ward(db):
    """Two patients on 4W and one on ICU, no notes."""
    from clinsum.charts.models import Patient

    return {
        "p1": Patient.objects.create(mrn="T-001", family_name="Ashford", given_name="Ruth", unit="4W", sex="female"),
        "p2": Patient.objects.create(mrn="T-002", family_name="Brennan", given_name="Olu", unit="4W", sex="male"),
        "icu": Patient.objects.create(mrn="T-003", family_name="Castillo", given_name="Mara", unit="ICU", sex="female"),
    }


@pytest.fixture
def notes(ward):
    """One note of Ruth (4W) and one of the ICU patient, by ward key ("p1", "icu") and by MRN."""
    from clinsum.charts.services import notes_ingest

    notes_ingest(notes=[note_record("T-001", "Ruth note. Afebrile."), note_record("T-003", "ICU note. Intubated.")])
    ruth, icu = ward["p1"].notes.get(), ward["icu"].notes.get()
    return {"p1": ruth, "icu": icu, "T-001": ruth, "T-003": icu}


@pytest.fixture
def identified_patient(db, clinician, admin_user):
    """Zebulon Quennell (4W): a name, MRN and birth date no administrator's page may show
    (tests/accounts/test_separation_of_duties.py), with a note, a care team member and a legal hold."""
    from datetime import date

    from clinsum.access.models import CareTeamMember
    from clinsum.charts.models import Patient
    from clinsum.charts.services import notes_ingest
    from clinsum.retention.models import LegalHold, RetentionPolicy

    patient = Patient.objects.create(
        mrn="MRN-SOD-77", family_name="Quennell", given_name="Zebulon", birth_date=date(1951, 7, 23), unit="4W"
    )
    notes_ingest(notes=[note_record("MRN-SOD-77", "Quennell note. Afebrile.")], enqueue=False)
    CareTeamMember.objects.create(patient=patient, user=clinician)
    LegalHold.objects.create(patient=patient, reason="matter 12", placed_by=admin_user)
    RetentionPolicy.objects.create(target="progress", keep_days=3650)
    return patient


@pytest.fixture(scope="session")
def llm_server():
    """One OpenAI-compatible stub for the session, reachable by worker processes too."""
    from tests.llm_stub import LLMStub

    stub = LLMStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def vllm_backend(settings, llm_server):
    """Summaries requested in this test go to the vLLM backend (the stub); its script is reset."""
    settings.SUMMARY_BACKEND = "vllm"
    settings.LLM_BASE_URL = llm_server.base_url
    settings.LLM_MODEL = llm_server.model
    llm_server.reset()
    return llm_server


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, llm_server):
    """A real `celery worker` subprocess on the test database and the test Redis. Its
    backend comes from each Summary row; vLLM calls go to the session's stub."""
    from django.conf import settings

    env = dict(os.environ)
    env["CLINSUM_DB_NAME"] = settings.DATABASES["default"]["NAME"]  # the test database
    env["LLM_BASE_URL"] = llm_server.base_url
    env["LLM_MODEL"] = llm_server.model
    env["LLM_TIMEOUT_S"] = "20"
    env["PYTHONUNBUFFERED"] = "1"
    log_path = Path(settings.VAR_DIR) / "worker.log"
    log = open(log_path, "w")
    from clinsum.devstack import celery_worker_args, stop_process

    proc = subprocess.Popen(
        celery_worker_args(loglevel="INFO"), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 90
    while "ready." not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            pytest.fail("celery worker did not start:\n" + log_path.read_text()[-3000:])
        time.sleep(0.3)
    proc.log_path = log_path
    yield proc
    stop_process(proc, timeout=30)
    log.close()
    _other_sessions_end(settings.DATABASES["default"]["NAME"], django_db_blocker)


def _other_sessions_end(database: str, django_db_blocker, timeout: float = 15) -> None:
    """The worker's database sessions outlive its process by a moment; the test database can
    only be dropped once they are gone. Wait for them, then end any that linger."""
    from django.db import connection

    query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        deadline = time.monotonic() + timeout
        while True:
            cursor.execute(query, [database])
            pids = [row[0] for row in cursor.fetchall()]
            if not pids or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def wait_for(predicate, *, timeout: float = 120, interval: float = 0.3, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def broker_down(tmp_path):
    """The Celery app publishes to a Redis socket nobody listens on: every send raises kombu's
    OperationalError, as when Redis is down. Restored (and the pools reset) afterwards."""
    from clinsum.celery import app

    def repoint(url):  # kombu keeps each URL's pools in a registry: drop our references, close nothing
        app._pool = None
        app.amqp._producer_pool = None
        app.conf.broker_url = url

    saved = app.conf.broker_url
    repoint(f"redis+socket://{tmp_path}/nothing-listens.sock")
    yield
    repoint(saved)
