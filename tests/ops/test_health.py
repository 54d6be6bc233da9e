import subprocess
import sys

from django.urls import reverse

from tests.conftest import ROOT


def test_healthz_answers_without_login(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_database_redis_and_embedder(db, client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "embedder": "ok", "llm": "ok"}


def test_readyz_reports_a_down_llm_endpoint(db, client, settings):
    settings.SUMMARY_BACKEND = "vllm"
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["checks"]["llm"].startswith("down")


def test_check_deploy_passes_with_the_production_environment(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "CLINSUM_PRODUCTION": "true",
        "DJANGO_SECRET_KEY": "x" * 64 + "-production-secret",
        "DJANGO_ALLOWED_HOSTS": "clinsum.hospital.example",
        "CLINSUM_VAR_DIR": str(tmp_path),
        "CLINSUM_TRUSTED_PROXIES": "1",
        "HF_HUB_OFFLINE": "1",
        "CLINSUM_DATA_AT_REST": "luks",
        "CLINSUM_BACKUP_RECIPIENTS": "/etc/clinsum/backup-keys/clinsum-backup.asc",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_container_healthchecks_reach_healthz_over_the_internal_network(tmp_path):
    """In production every page redirects to HTTPS and only the hospital's name is an allowed
    host; the compose healthcheck (http://127.0.0.1:8000/healthz) must still get 200."""
    env = {
        "PATH": "/usr/bin:/bin",
        "CLINSUM_PRODUCTION": "true",
        "DJANGO_SECRET_KEY": "x" * 64 + "-production-secret",
        "DJANGO_ALLOWED_HOSTS": "clinsum.hospital.example",
        "CLINSUM_INTERNAL_HOSTS": "web,127.0.0.1",
        "CLINSUM_VAR_DIR": str(tmp_path),
        "CLINSUM_TRUSTED_PROXIES": "1",
        "HF_HUB_OFFLINE": "1",
    }
    script = (
        "from django.test import Client\n"
        "c = Client()\n"
        "print(c.get('/healthz', HTTP_HOST='127.0.0.1:8000').status_code)\n"
        "print(c.get('/patients/', HTTP_HOST='clinsum.hospital.example').status_code)\n"
        "print(c.get('/healthz', HTTP_HOST='evil.example').status_code)\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    codes = [line.strip() for line in result.stdout.splitlines() if line.strip().isdigit()]
    assert codes == ["200", "301", "400"], result.stdout + result.stderr


def _settings_in(env_extra: dict, tmp_path, expression: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "CLINSUM_VAR_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1", **env_extra}
    env["DJANGO_SETTINGS_MODULE"] = "clinsum.settings"
    script = f"import django; django.setup(); from django.conf import settings; print(repr({expression}))"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_database_tls_options_come_from_the_environment(tmp_path):
    result = _settings_in(
        {
            "DATABASE_URL": "postgres://clinsum:pw@db.hospital.example:5432/clinsum",
            "CLINSUM_DB_SSLMODE": "verify-full",
            "CLINSUM_DB_SSLROOTCERT": "/etc/clinsum/ca.pem",
        },
        tmp_path,
        "settings.DATABASES['default']['OPTIONS']",
    )
    assert result.returncode == 0, result.stderr
    assert "{'sslmode': 'verify-full', 'sslrootcert': '/etc/clinsum/ca.pem'}" in result.stdout
    bad = _settings_in({"CLINSUM_DB_SSLMODE": "yes-please"}, tmp_path, "1")
    assert bad.returncode != 0 and "CLINSUM_DB_SSLMODE must be a libpq sslmode" in bad.stderr
