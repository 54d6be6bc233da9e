"""Prometheus metrics: GET /metrics, for a scraper holding CLINSUM_METRICS_TOKEN.

Two kinds of metric, kept apart on purpose:

- Request latency is observed in this process by RequestMetricsMiddleware, labelled by URL
  route *name*, method and status class, never by path (paths hold patient ids).
- Everything else is read at scrape time by custom collectors: queue depth from the Redis
  broker (LLEN), summaries, claims and ingest from aggregate queries. Counters come from the
  database rows themselves, so they are the same whichever gunicorn worker answers the scrape
  and include the Celery workers' work, with no shared state; rate() gives throughput. The
  retention purge deletes rows, which Prometheus reads as a counter reset.

Gunicorn runs several worker processes, each with its own request histogram. Set
PROMETHEUS_MULTIPROC_DIR (an empty directory, wiped before gunicorn starts) and
prometheus_client writes every process's samples there; a scrape then merges them all. Unset
(runserver, tests), the default registry of this process is exposed.

No label or value carries PHI: labels are route names, methods, status classes, queue names,
summary statuses and claim verdicts; values are counts, sums and durations.
"""

from __future__ import annotations

import hmac
import os
import time

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.urls import Resolver404, resolve
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    SummaryMetricFamily,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

# --- Requests (process-local, merged across processes in multiprocess mode) -----------------

REQUEST_LATENCY = Histogram(
    "clinsum_http_request_duration_seconds",
    "Time to produce the response, by URL route name, method and status class.",
    ["route", "method", "status_class"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no URL pattern: static files, unknown paths


def request_route_name(request) -> str:
    """The URL pattern's name (namespaced), never the path. Requests answered before URL
    resolution (a redirect to the login or MFA page) are resolved here."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return UNMATCHED
    return match.view_name or "unnamed"


class RequestMetricsMiddleware:
    """Near the top of MIDDLEWARE, so the time includes the other middleware. A streaming
    response is timed to its first byte."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in _METHODS else "other"
        REQUEST_LATENCY.labels(
            route=request_route_name(request), method=method, status_class=f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response


# --- Celery queues (read from the broker at scrape time) -----------------------------------


def celery_queue_names() -> list[str]:
    """The default queue and every queue a task route names (embed, llm, default)."""
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route}
    return sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *routed})


class CeleryQueueCollector(Collector):
    """Messages waiting per queue: LLEN of the queue's Redis lists. kombu keeps one list per
    priority step ("embed", "embed\\x06\\x163", ...); they are summed. A broker that cannot be
    reached gives clinsum_celery_broker_up 0 and no queue samples, never an error."""

    def collect(self):
        from kombu import Connection

        up = GaugeMetricFamily("clinsum_celery_broker_up", "1 if the Celery broker (Redis) answered this scrape.")
        length = GaugeMetricFamily(
            "clinsum_celery_queue_length", "Messages waiting in the Celery queue.", labels=["queue"]
        )
        options = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "socket_timeout": 2, "socket_connect_timeout": 2}
        try:
            with Connection(settings.CELERY_BROKER_URL, transport_options=options, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
                channel = conn.default_channel
                queues = celery_queue_names()
                with channel.client.pipeline(transaction=False) as pipe:
                    for queue in queues:
                        for step in channel.priority_steps:
                            pipe.llen(f"{queue}{channel.sep}{step}" if step else queue)
                    sizes = pipe.execute()
        except Exception:  # any broker failure is reported as down; the scrape goes on
            up.add_metric([], 0)
            yield up
            return
        steps = len(channel.priority_steps)
        for index, queue in enumerate(queues):
            length.add_metric([queue], sum(sizes[index * steps : (index + 1) * steps]))
        up.add_metric([], 1)
        yield up
        yield length


# --- Summaries, claims, ingest (aggregates read from the database at scrape time) ----------

SUMMARY_LATENCY_BUCKETS_S = (0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600)


def _summary_families():
    from clinsum.summaries.models import Summary, SummaryStatus

    done = Q(status=SummaryStatus.DONE)
    timed = done & Q(latency_ms__isnull=False)
    scored = done & Q(supported_fraction__isnull=False)
    row = Summary.objects.aggregate(  # one query, one pass over the table
        **{status: Count("id", filter=Q(status=status)) for status in SummaryStatus.values},
        latency_count=Count("id", filter=timed),
        latency_sum_ms=Sum("latency_ms", filter=timed),
        **{
            f"le_{i}": Count("id", filter=timed & Q(latency_ms__lte=int(le * 1000)))
            for i, le in enumerate(SUMMARY_LATENCY_BUCKETS_S)
        },
        tokens_in=Sum("tokens_in"),
        tokens_out=Sum("tokens_out"),
        claims=Sum("n_claims", filter=done),
        scored_count=Count("id", filter=scored),
        scored_sum=Sum("supported_fraction", filter=scored),
    )
    waiting = GaugeMetricFamily("clinsum_summaries_in_progress", "Summaries queued or running.", labels=["status"])
    finished = CounterMetricFamily("clinsum_summaries_finished", "Summaries finished, by outcome.", labels=["status"])
    for status in (SummaryStatus.QUEUED, SummaryStatus.RUNNING):
        waiting.add_metric([status.value], row[status.value])
    for status in (SummaryStatus.DONE, SummaryStatus.FAILED):
        finished.add_metric([status.value], row[status.value])
    latency = HistogramMetricFamily(
        "clinsum_summary_latency_seconds",
        "Generation time of done summaries (retrieval, model, verification).",
        buckets=[
            *((floatToGoString(le), row[f"le_{i}"]) for i, le in enumerate(SUMMARY_LATENCY_BUCKETS_S)),
            ("+Inf", row["latency_count"]),
        ],
        sum_value=(row["latency_sum_ms"] or 0) / 1000,
    )
    tokens = CounterMetricFamily("clinsum_summary_tokens", "Model tokens used by summaries.", labels=["direction"])
    tokens.add_metric(["in"], row["tokens_in"] or 0)
    tokens.add_metric(["out"], row["tokens_out"] or 0)
    claims = CounterMetricFamily("clinsum_summary_claims", "Claims in done summaries.", value=row["claims"] or 0)
    supported = SummaryMetricFamily(
        "clinsum_summary_supported_fraction",
        "Fraction of supported claims per done summary (sum/count = mean).",
        count_value=row["scored_count"],
        sum_value=row["scored_sum"] or 0,
    )
    return [waiting, finished, latency, tokens, claims, supported]


def _claim_families():
    from clinsum.summaries.models import Claim, Verdict

    counts = dict(Claim.objects.order_by().values_list("verdict").annotate(n=Count("id")))
    verdicts = CounterMetricFamily("clinsum_claims", "Claims verified, by verdict.", labels=["verdict"])
    for verdict in Verdict.values:
        verdicts.add_metric([verdict], counts.get(verdict, 0))
    return [verdicts]


def _ingest_families():
    from clinsum.charts.models import Chunk, EmbeddingStatus, Note

    by_status = dict(Note.objects.order_by().values_list("embedding_status").annotate(n=Count("id")))
    chunks = Chunk.objects.aggregate(total=Count("id"), embedded=Count("id", filter=Q(embedding__isnull=False)))
    notes = CounterMetricFamily("clinsum_notes", "Notes stored.", value=sum(by_status.values()))
    notes_by_status = GaugeMetricFamily(
        "clinsum_notes_by_embedding_status", "Notes by embedding status.", labels=["embedding_status"]
    )
    for status in EmbeddingStatus.values:
        notes_by_status.add_metric([status], by_status.get(status, 0))
    return [
        notes,
        notes_by_status,
        CounterMetricFamily("clinsum_chunks", "Chunks stored.", value=chunks["total"]),
        CounterMetricFamily("clinsum_chunks_embedded", "Chunks with an embedding.", value=chunks["embedded"]),
        GaugeMetricFamily(
            "clinsum_chunks_embedding_backlog",
            "Chunks still without an embedding.",
            value=chunks["total"] - chunks["embedded"],
        ),
    ]


def _draft_families():
    from clinsum.drafting.kinds import DRAFT_KINDS
    from clinsum.drafting.models import Draft, DraftSentence, DraftStatus

    counts = {(k, st): n for k, st, n in Draft.objects.order_by().values_list("kind", "status").annotate(n=Count("id"))}
    drafts = GaugeMetricFamily(
        "clinsum_drafts", "Nurse drafts, by kind and status (signed ones are notes now).", labels=["kind", "status"]
    )
    for kind in DRAFT_KINDS:
        for status in DraftStatus.values:
            drafts.add_metric([kind, status], counts.get((kind, status), 0))
    origins = dict(
        DraftSentence.objects.filter(draft__status=DraftStatus.SIGNED)
        .order_by()
        .values_list("origin")
        .annotate(n=Count("id"))
    )
    signed = CounterMetricFamily(
        "clinsum_signed_draft_sentences",
        "Sentences of signed drafts, by origin (drafted, edited or added by the nurse).",
        labels=["origin"],
    )
    for origin in ("generated", "edited", "added"):
        signed.add_metric([origin], origins.get(origin, 0))
    return [drafts, signed]


class DatabaseCollector(Collector):
    """A handful of aggregate queries per scrape (one pass over summaries, claims, notes and
    chunks each). A database that fails them gives clinsum_database_up 0, never an error."""

    def collect(self):
        up = GaugeMetricFamily("clinsum_database_up", "1 if the database answered this scrape's queries.")
        try:
            families = [*_summary_families(), *_claim_families(), *_ingest_families(), *_draft_families()]
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def metrics_registry() -> CollectorRegistry:
    """What one scrape exposes: request histograms (every process's in multiprocess mode, this
    process's default registry otherwise) plus the scrape-time collectors."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)  # this process: request histogram, process and GC metrics
    registry.register(CeleryQueueCollector())
    registry.register(DatabaseCollector())
    return registry


# --- The endpoint ---------------------------------------------------------------------------


def _token_matches(request, expected: str) -> bool:
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(supplied.strip().encode(), expected.encode())


@never_cache
@require_GET
def metrics(request):
    """A bearer token, never a session: off (404) until CLINSUM_METRICS_TOKEN is set."""
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404
    if not _token_matches(request, expected):
        return HttpResponse(
            status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}, content_type="text/plain"
        )
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
