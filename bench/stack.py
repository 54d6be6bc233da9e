"""The benchmarks' own embedded database: var/bench, database names starting `clinsum_bench`,
so a benchmark never touches the demo data (var/pgdata) or the test database (var/test).

Call `bench_setup(db_name)` before importing anything that needs Django."""

from __future__ import annotations

import atexit
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
BENCH_VAR = ROOT / "var" / "bench"


def bench_setup(db_name: str, *, shared_buffers: str | None = None, var_dir: Path = BENCH_VAR):
    """Start PostgreSQL+pgvector and Redis under `var_dir` (var/bench), point Django at
    `db_name`, migrate it. Returns the running stack (stopped at exit). The embedded defaults
    apply: a configured database, broker or summary backend is ignored.

    `shared_buffers` (e.g. "1GB") is set with ALTER SYSTEM on the bench cluster, restarting it
    when it differs (the embedded default is PostgreSQL's 128MB; a hospital server has more)."""
    if not db_name.startswith("clinsum_bench"):
        raise SystemExit(f"benchmark databases are named clinsum_bench*, not {db_name!r}")
    sys.path.insert(0, str(ROOT))
    # Never a configured production or developer database: only the embedded bench stack.
    for name in ("DATABASE_URL", "REDIS_URL", "SUMMARY_BACKEND"):
        os.environ.pop(name, None)
    os.environ["CLINSUM_VAR_DIR"] = str(var_dir)
    os.environ["CLINSUM_DB_NAME"] = db_name
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinsum.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from clinsum.devstack import EmbeddedStack

    var_dir.mkdir(parents=True, exist_ok=True)
    stack = EmbeddedStack(var_dir, persist_redis=False).start(db_names=(db_name,))
    if shared_buffers and shared_buffers.lower() not in stack.pg.psql("SHOW shared_buffers;").lower():
        stack.pg.psql(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}';")
        stack.stop()
        stack = EmbeddedStack(var_dir, persist_redis=False).start(db_names=(db_name,))
    atexit.register(stack.stop)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return stack


def charts_reset() -> None:
    """Empty the charts tables of the benchmark database (only ever a clinsum_bench* one)."""
    from django.conf import settings
    from django.db import connection

    from clinsum.db.roles import as_owner

    name = settings.DATABASES["default"]["NAME"]
    assert name.startswith("clinsum_bench"), name
    # TRUNCATE ... CASCADE reaches the audit trail's neighbours: the owner's right, not the app's.
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE charts_chunk, charts_note, charts_patient RESTART IDENTITY CASCADE")


def bench_reader(patient):
    """A clinician on `patient`'s care team: summaries run as the person who asked and read
    under the access rule (clinsum/access), so a bench asks as someone who may read the chart."""
    from clinsum.access.models import CareTeamMember
    from clinsum.accounts.models import User

    reader, _ = User.objects.get_or_create(
        username="bench.reader", defaults={"role": "clinician", "first_name": "Bench", "last_name": "Reader"}
    )
    CareTeamMember.objects.get_or_create(patient=patient, user=reader)
    return reader


def machine() -> str:
    import torch

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads, {'CUDA' if torch.cuda.is_available() else 'no GPU'}"
    )
