"""The fast inner loop: the Django-free tests run without PostgreSQL or Redis being started."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PURE = [
    "tests/retrieval/test_chunking.py",
    "tests/retrieval/test_clinical_text.py",
    "tests/retrieval/test_chart_reader.py",
    "tests/summaries/test_verification.py",
    "tests/bench/test_ask.py",
    "tests/retrieval/test_answers.py",
]


def test_pure_tests_start_no_database_or_broker(tmp_path):
    env = {**os.environ, "CLINSUM_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PURE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert not (tmp_path / "var" / "pgdata").exists()  # PostgreSQL never started
    assert not (tmp_path / "var" / "redis.sock").exists()


def test_a_database_test_still_gets_its_stack(tmp_path):
    env = {**os.environ, "CLINSUM_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/audit/test_services.py",
            "-k",
            "chained_in_sequence",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert (tmp_path / "var" / "pgdata" / "PG_VERSION").is_file()
