"""manage.py seed_demo (clinsum/management/commands/seed_demo.py): the demo ward, demo logins
and the demo draft-retention policy, loaded by `make run` with --if-empty."""

from __future__ import annotations

import ast
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from clinsum.accounts.models import User
from clinsum.charts.models import Note, Patient
from clinsum.retention.models import RetentionPolicy
from demo import demo_ward_generate

ROOT = Path(__file__).resolve().parent.parent


def test_seed_demo_loads_a_small_ward_logins_and_a_draft_policy(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("seed_demo", patients=2, stdout=out)
    assert Patient.objects.count() == 2 and Note.objects.exists()
    assert set(User.objects.values_list("username", flat=True)) >= {"clinician", "nurse", "admin", "privacy"}
    assert RetentionPolicy.objects.get(target="draft").keep_days == 30
    logins = (tmp_path / "demo_logins.txt").read_text()
    assert "nurse" in logins and oct((tmp_path / "demo_logins.txt").stat().st_mode & 0o777) == "0o600"
    # Demo admins and privacy officers set up their authenticator with a one-time code (issue 14).
    assert "MFA enrolment code for admin:" in out.getvalue() and "MFA enrolment code for privacy:" in out.getvalue()
    call_command("seed_demo", patients=2, if_empty=True, stdout=StringIO())  # a second start changes nothing
    assert Patient.objects.count() == 2 and RetentionPolicy.objects.count() == 1


def test_seed_demo_stores_the_generated_ward_as_written(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", patients=3, seed=7, stdout=StringIO())
    ward = demo_ward_generate(seed=7, n_patients=3)
    stored = Note.objects.values_list("patient__mrn", "note_type", "authored_at", "author", "title", "text")
    assert sorted(stored) == sorted((n.mrn, n.note_type, n.authored_at, n.author, n.title, n.text) for n in ward.notes)
    patients = Patient.objects.values_list("mrn", "family_name", "given_name", "birth_date", "sex", "unit")
    assert sorted(patients) == sorted(
        (p.mrn, p.family_name, p.given_name, p.birth_date, p.sex, p.unit) for p in ward.patients
    )


def test_the_charts_app_does_not_import_retention():
    """Seeding needs both; it lives above them (the project-level command), so charts stays below retention."""
    offenders = []
    for path in sorted((ROOT / "clinsum" / "charts").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else ([alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            )
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names if name.startswith("clinsum.retention")]
    assert offenders == []
