"""GET /metrics: the bearer token, the exposition, and what each metric reads from real parts
(the request path through the middleware, the test stack's Redis and PostgreSQL)."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from clinsum.celery import app as celery_app
from clinsum.charts.models import Chunk, Note, Patient
from clinsum.charts.services import notes_ingest
from clinsum.summaries.models import Claim, Summary
from tests.conftest import ROOT, note_record

TOKEN = "metrics-test-token-" + "x" * 40


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> str:
    response = client.get(reverse("metrics"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(text: str, name: str, **labels) -> float | None:
    for s in samples(text):
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


# --- Protection -----------------------------------------------------------------------------


def test_it_answers_404_while_no_token_is_configured(db, client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get(reverse("metrics")).status_code == 404
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_it_refuses_a_missing_or_wrong_token(db, client, metrics_on):
    for header in (None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        response = client.get(reverse("metrics"), **extra)
        assert response.status_code == 401, header
        assert response.content == b""  # nothing about why
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_logged_in_session_is_not_enough(db, client, metrics_on, admin_user, clinician):
    for user in (admin_user, clinician):
        client.force_login(user)
        assert client.get(reverse("metrics")).status_code == 401


def test_the_right_token_gets_a_parseable_exposition(db, client, metrics_on):
    text = scrape(client)
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {
        "clinsum_http_request_duration_seconds",
        "clinsum_celery_queue_length",
        "clinsum_celery_broker_up",
        "clinsum_database_up",
        "clinsum_summaries_finished",
        "clinsum_summary_latency_seconds",
        "clinsum_summary_tokens",
        "clinsum_claims",
        "clinsum_notes",
        "clinsum_chunks_embedding_backlog",
    } <= names
    assert value(text, "clinsum_database_up") == 1


def test_it_rejects_post(db, client, metrics_on):
    assert client.post(reverse("metrics"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_a_short_token_stops_start_up(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "CLINSUM_VAR_DIR": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "CLINSUM_METRICS_TOKEN": "short",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "CLINSUM_METRICS_TOKEN must be at least 32" in result.stderr


def test_nginx_refuses_metrics_from_outside():
    conf = (Path(ROOT) / "deploy" / "nginx.conf").read_text()
    block = re.search(r"location \^~ /metrics \{(.*?)\}", conf, re.S)
    assert block and "deny all;" in block.group(1)


# --- Request latency --------------------------------------------------------------------------


def test_a_request_is_counted_under_its_route_name_never_its_path(db, client, metrics_on, clinician):
    patient = Patient.objects.create(pk=987654, mrn="T-987", family_name="Idsworth", unit="4W")
    labels = {"route": "chart_detail", "method": "GET", "status_class": "2xx"}
    before = value(scrape(client), "clinsum_http_request_duration_seconds_count", **labels) or 0
    client.force_login(clinician)
    assert client.get(reverse("chart_detail", args=[patient.pk])).status_code == 200
    assert client.get("/patients/987654/no-such-page/").status_code == 404
    text = scrape(client)
    assert value(text, "clinsum_http_request_duration_seconds_count", **labels) == before + 1
    assert value(text, "clinsum_http_request_duration_seconds_count", route="unmatched", status_class="4xx") >= 1
    for s in samples(text):
        assert not any("987654" in v or "/" in v for v in s.labels.values()), s
    routes = {s.labels["route"] for s in samples(text) if s.name.startswith("clinsum_http_request_duration")}
    assert all(re.fullmatch(r"[a-z_:]+", route) for route in routes), routes


def test_multiprocess_mode_merges_every_worker_process(db, monkeypatch, tmp_path):
    """Two processes (as two gunicorn workers) observe a request each; a scrape sees both."""
    observe = (
        "from clinsum.metrics import REQUEST_LATENCY; "
        "REQUEST_LATENCY.labels(route='healthz', method='GET', status_class='2xx').observe(0.02)"
    )
    env = {"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", observe], cwd=ROOT, env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    from prometheus_client import generate_latest

    from clinsum.metrics import metrics_registry

    text = generate_latest(metrics_registry()).decode()
    assert value(text, "clinsum_http_request_duration_seconds_count", route="healthz") == 2
    assert value(text, "clinsum_database_up") == 1  # scrape-time collectors are there too


# --- Celery queues ----------------------------------------------------------------------------


@pytest.fixture
def broker():
    """The test stack's real Redis, emptied of what the test published."""
    with celery_app.connection_for_write() as conn:
        yield conn
        for queue in ("embed", "llm"):
            conn.default_channel.queue_purge(queue)


def test_queue_depth_counts_messages_waiting_in_redis(db, client, metrics_on, broker):
    before = scrape(client)
    assert value(before, "clinsum_celery_broker_up") == 1
    embed0 = value(before, "clinsum_celery_queue_length", queue="embed")
    llm0 = value(before, "clinsum_celery_queue_length", queue="llm")
    default0 = value(before, "clinsum_celery_queue_length", queue="default")
    for _ in range(3):
        celery_app.send_task("clinsum.metrics_test.nothing", queue="embed", connection=broker)
    celery_app.send_task("clinsum.metrics_test.nothing", queue="llm", priority=9, connection=broker)  # own list
    after = scrape(client)
    assert value(after, "clinsum_celery_queue_length", queue="embed") == embed0 + 3
    assert value(after, "clinsum_celery_queue_length", queue="llm") == llm0 + 1
    assert value(after, "clinsum_celery_queue_length", queue="default") == default0


def test_a_broker_that_is_down_reads_as_down_not_as_an_error(db, client, metrics_on, settings, tmp_path):
    settings.CELERY_BROKER_URL = f"redis+socket://{tmp_path}/nothing-listens.sock"
    text = scrape(client)
    assert value(text, "clinsum_celery_broker_up") == 0
    assert value(text, "clinsum_celery_queue_length", queue="embed") is None
    assert value(text, "clinsum_database_up") == 1  # the rest of the scrape still answers


# --- Summaries, claims, ingest ----------------------------------------------------------------


def _summary(patient, status, **fields):
    return Summary.objects.create(
        patient=patient, backend="extractive", fingerprint=uuid.uuid4().hex, status=status, **fields
    )


def test_summary_and_claim_metrics_read_the_rows(db, client, metrics_on, ward):
    before = scrape(client)
    done = _summary(
        ward["p1"], "done", latency_ms=1_500, tokens_in=1000, tokens_out=200, n_claims=3, supported_fraction=2 / 3
    )
    _summary(ward["p1"], "done", latency_ms=40_000, tokens_in=3000, tokens_out=300, n_claims=0)
    _summary(ward["p2"], "failed", tokens_in=50)
    _summary(ward["p2"], "queued")
    for ordinal, verdict in enumerate(("supported", "supported", "unsupported")):
        Claim.objects.create(summary=done, section="problems", ordinal=ordinal, text="Claim.", verdict=verdict)
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - (value(before, name, **labels) or 0)

    assert delta("clinsum_summaries_finished_total", status="done") == 2
    assert delta("clinsum_summaries_finished_total", status="failed") == 1
    assert delta("clinsum_summaries_in_progress", status="queued") == 1
    assert delta("clinsum_summary_latency_seconds_count") == 2
    assert delta("clinsum_summary_latency_seconds_sum") == pytest.approx(41.5)
    assert delta("clinsum_summary_latency_seconds_bucket", le="2.5") == 1
    assert delta("clinsum_summary_latency_seconds_bucket", le="60.0") == 2
    assert delta("clinsum_summary_tokens_total", direction="in") == 4050
    assert delta("clinsum_summary_tokens_total", direction="out") == 500
    assert delta("clinsum_summary_claims_total") == 3
    assert delta("clinsum_summary_supported_fraction_count") == 1
    assert delta("clinsum_summary_supported_fraction_sum") == pytest.approx(2 / 3)
    assert delta("clinsum_claims_total", verdict="supported") == 2
    assert delta("clinsum_claims_total", verdict="unsupported") == 1
    assert delta("clinsum_claims_total", verdict="partly_supported") == 0


def test_ingest_metrics_count_notes_chunks_and_the_embedding_backlog(db, client, metrics_on, ward):
    before = scrape(client)
    notes_ingest(
        notes=[
            note_record("T-001", "Afebrile overnight.", days_ago=2),
            note_record("T-001", "Walked the corridor.", days_ago=1),
            note_record("T-002", "Tolerating diet."),
        ],
        enqueue=False,
    )
    for index, note in enumerate(Note.objects.filter(patient__mrn="T-001")):
        Chunk.objects.create(
            note=note,
            patient=note.patient,
            ordinal=0,
            char_start=0,
            char_end=len(note.text),
            text=note.text,
            embedding=[0.1, 0.2, 0.3] if index == 0 else None,
        )
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - (value(before, name, **labels) or 0)

    assert delta("clinsum_notes_total") == 3
    assert delta("clinsum_notes_by_embedding_status", embedding_status="pending") == 3
    assert delta("clinsum_chunks_total") == 2
    assert delta("clinsum_chunks_embedded_total") == 1
    assert delta("clinsum_chunks_embedding_backlog") == 1


def test_draft_metrics_count_drafts_and_who_wrote_the_signed_sentences(db, client, metrics_on, ward, nurse):
    from clinsum.drafting.models import Draft, DraftSentence

    before = scrape(client)
    Draft.objects.create(patient=ward["p1"], author=nurse, kind="sbar_handoff", backend="extractive", status="ready")
    signed = Draft.objects.create(
        patient=ward["p1"], author=nurse, kind="discharge_instructions", backend="extractive", status="signed"
    )
    for ordinal, origin in enumerate(("generated", "generated", "edited", "added")):
        DraftSentence.objects.create(draft=signed, section="why", ordinal=ordinal, text="S.", origin=origin)
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - (value(before, name, **labels) or 0)

    assert delta("clinsum_drafts", kind="sbar_handoff", status="ready") == 1
    assert delta("clinsum_drafts", kind="discharge_instructions", status="signed") == 1
    assert delta("clinsum_drafts", kind="nursing_progress", status="ready") == 0
    assert delta("clinsum_signed_draft_sentences_total", origin="generated") == 2
    assert delta("clinsum_signed_draft_sentences_total", origin="edited") == 1
    assert delta("clinsum_signed_draft_sentences_total", origin="added") == 1


# --- No PHI -----------------------------------------------------------------------------------


def test_no_planted_phi_reaches_the_scrape(db, client, metrics_on, make_user):
    reader = make_user("sentinel.reader", "clinician", "4W")
    patient = Patient.objects.create(mrn="SENTINEL-MRN-31337", family_name="Quixwood", given_name="Zelda", unit="4W")
    notes_ingest(notes=[note_record("SENTINEL-MRN-31337", "SENTINEL-NOTE-TEXT: dyspnoea on exertion.")], enqueue=False)
    summary = _summary(patient, "done", requested_by=reader, latency_ms=900, n_claims=1, supported_fraction=1.0)
    Claim.objects.create(
        summary=summary,
        section="problems",
        ordinal=0,
        text="SENTINEL-CLAIM-TEXT",
        verdict="supported",
        verdict_reason="SENTINEL-REASON",
    )
    client.force_login(reader)
    assert client.get(reverse("chart_detail", args=[patient.pk])).status_code == 200
    assert client.get(reverse("summary_detail", args=[summary.pk])).status_code == 200
    client.logout()
    text = scrape(client)
    assert value(text, "clinsum_summary_claims_total") >= 1  # the rows were seen
    # Whole planted values, not the bare digits: "31337" can occur inside a float timestamp
    # of the scrape (it did: 1.7961497731337235e+09).
    for planted in ("SENTINEL", "MRN-31337", "Quixwood", "Zelda", "sentinel.reader", "dyspnoea"):
        assert planted.lower() not in text.lower(), planted
