"""pytest plugin (loaded with -p before Django is set up): points ClinSum at a test-only
embedded stack under var/test and starts PostgreSQL+pgvector and Redis for the session, once
collection shows a test that needs the database. A run of Django-free tests only (chunking, the
verifier's pure checks, the demo ward generator) starts neither."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("CLINSUM_VAR_DIR", str(ROOT / "var" / "test"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Tests must not depend on a developer's environment pointing at real services.
for name in ("DATABASE_URL", "REDIS_URL", "LLM_BASE_URL", "SUMMARY_BACKEND"):
    os.environ.pop(name, None)

_stack = None


def _needs_database(item) -> bool:
    return item.get_closest_marker("django_db") is not None or "django_db_setup" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(session, config, items):
    global _stack
    if _stack is not None or not any(_needs_database(item) for item in items):
        return
    from clinsum.devstack import EmbeddedStack

    root = Path(os.environ["CLINSUM_VAR_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    _stack = EmbeddedStack(root, persist_redis=False).start()


def pytest_unconfigure(config):
    if _stack is not None:
        _stack.stop()
