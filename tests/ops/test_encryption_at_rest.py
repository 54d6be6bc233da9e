"""`check --deploy` says when production runs without encryption at rest or without backup keys
(clinsum/deploy_checks.py); the encrypted backups themselves are tested in test_backup_restore.py."""

import subprocess
import sys

import pytest
import yaml

from clinsum.deploy_checks import backup_recipients_check, data_at_rest_check
from tests.conftest import ROOT

PRODUCTION = {
    "PATH": "/usr/bin:/bin",
    "CLINSUM_PRODUCTION": "true",
    "DJANGO_SECRET_KEY": "x" * 64 + "-production-secret",
    "DJANGO_ALLOWED_HOSTS": "clinsum.hospital.example",
    "CLINSUM_TRUSTED_PROXIES": "1",
    "HF_HUB_OFFLINE": "1",
}


def check_deploy(tmp_path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**PRODUCTION, "CLINSUM_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_fails_in_production_without_encryption_at_rest_or_backup_keys(tmp_path):
    result = check_deploy(tmp_path)
    assert result.returncode != 0
    assert "(clinsum.W101) Production runs without a declared encryption at rest" in result.stderr
    assert "(clinsum.W102) Production has no backup public key" in result.stderr

    declared = check_deploy(tmp_path, CLINSUM_DATA_AT_REST="storage")
    assert "clinsum.W101" not in declared.stderr and "clinsum.W102" in declared.stderr
    none = check_deploy(tmp_path, CLINSUM_DATA_AT_REST="none", CLINSUM_BACKUP_RECIPIENTS="/srv/keys/a.asc")
    assert "clinsum.W101" in none.stderr and "clinsum.W102" not in none.stderr


def test_an_unknown_mechanism_is_refused_at_start(tmp_path):
    result = check_deploy(tmp_path, CLINSUM_DATA_AT_REST="yes")
    assert result.returncode != 0
    assert "CLINSUM_DATA_AT_REST must be one of none, luks, storage; got 'yes'" in result.stderr


@pytest.mark.parametrize(
    "at_rest, recipients, expected",
    [
        ("none", [], {"clinsum.W101", "clinsum.W102"}),
        ("luks", [], {"clinsum.W102"}),
        ("storage", ["/etc/clinsum/backup-keys/2027.asc"], set()),
    ],
)
def test_the_checks_in_production(settings, at_rest, recipients, expected):
    settings.SECURE, settings.DATA_AT_REST, settings.BACKUP_RECIPIENTS = True, at_rest, recipients
    found = {m.id for m in data_at_rest_check(None) + backup_recipients_check(None)}
    assert found == expected


def test_the_checks_are_quiet_outside_production(settings):
    settings.SECURE, settings.DATA_AT_REST, settings.BACKUP_RECIPIENTS = False, "none", []
    assert data_at_rest_check(None) == [] and backup_recipients_check(None) == []


def test_env_example_declares_the_new_variables_as_production_starts_them():
    values = dict(
        line.split("=", 1)
        for line in (ROOT / "deploy" / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert values["CLINSUM_PRODUCTION"] == "true"  # deploy/backup.sh reads it from .env
    assert values["CLINSUM_DATA_AT_REST"] == "none"  # valid, and check --deploy warns until it is changed
    assert values["CLINSUM_BACKUP_RECIPIENTS"] == ""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert compose["x-app"]["env_file"] == ".env"  # the app containers see them too
