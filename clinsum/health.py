"""Liveness and readiness probes for load balancers and compose: no PHI, no authentication,
nothing but up/down per dependency."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        if cursor.fetchone() is None:
            raise RuntimeError("pgvector extension missing")


def _check_redis() -> None:
    from clinsum.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _check_embedder() -> None:
    from retrieval.embedding import default_model_path

    path = Path(settings.EMBEDDING_MODEL_PATH) if settings.EMBEDDING_MODEL_PATH else default_model_path()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise RuntimeError("embedding model directory incomplete")


def _check_llm() -> None:
    if settings.SUMMARY_BACKEND != "vllm":
        return
    import urllib.request

    with urllib.request.urlopen(settings.LLM_BASE_URL.rstrip("/") + "/models", timeout=3) as response:
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")


CHECKS = {"database": _check_database, "redis": _check_redis, "embedder": _check_embedder, "llm": _check_llm}


@never_cache
@require_GET
def readyz(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # a probe reports, it never raises; the message names no PHI
            results[name] = f"down: {type(exc).__name__}"
    ready = all(v == "ok" for v in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
