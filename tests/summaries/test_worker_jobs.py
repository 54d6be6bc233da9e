"""Summary jobs on a real Celery worker process against the vLLM stub: good answers, garbage,
and a worker process killed mid-task."""

import json
import os
import re
import signal

import psutil
import pytest
from django.urls import reverse

from clinsum.charts.models import EmbeddingStatus, Note, Patient
from clinsum.charts.services import notes_ingest
from clinsum.summaries.models import Summary, SummaryStatus
from tests.conftest import note_record, wait_for
from tests.llm_stub import malformed, reply, sleep

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

_SOURCE = re.compile(r'<source id="(?P<id>[^"]+)"[^>]*>\n(?P<text>.*?)\n</source>', re.S)


def cite_first_sentences(request: dict) -> str:
    """What a well-behaved model answers: one claim per source, quoting its first sentence."""
    sources = {m["id"]: m["text"] for m in _SOURCE.finditer(request["messages"][1]["content"])}
    schema = request["response_format"]["json_schema"]["schema"]["properties"]["sections"]["properties"]
    sections = {key: [] for key in schema}
    for index, (source_id, text) in enumerate(sources.items()):
        sentence = re.split(r"(?<=[.])\s", text.strip(), maxsplit=1)[0]
        key = list(sections)[index % len(sections)]
        if len(sections[key]) < schema[key].get("maxItems", 4):
            sections[key].append({"text": sentence, "citations": [{"source_id": source_id, "quote": sentence}]})
    return json.dumps({"sections": sections})


@pytest.fixture
def chart(ward):
    patient = ward["p1"]
    notes_ingest(
        notes=[
            note_record(
                "T-001", "ASSESSMENT: Acute on chronic systolic heart failure. Ejection fraction 30%.", days_ago=3
            ),
            note_record("T-001", "MEDICATIONS: Furosemide 40 mg IV twice daily. Metoprolol 25 mg daily.", days_ago=2),
            note_record("T-001", "ALLERGIES: Penicillin causes hives.", days_ago=1, note_type="nursing"),
        ]
    )
    return patient


def wait_indexed(patient: Patient):
    wait_for(
        lambda: not Note.objects.filter(patient=patient).exclude(embedding_status=EmbeddingStatus.DONE).exists(),
        what="indexing",
    )


def request_summary(client, user, patient) -> Summary:
    client.force_login(user)
    client.post(reverse("summary_create", args=[patient.pk]))
    return Summary.objects.filter(patient=patient).latest("created_at")


def finished(summary: Summary) -> Summary:
    wait_for(lambda: Summary.objects.get(pk=summary.pk).is_finished(), timeout=120, what="summary to finish")
    return Summary.objects.get(pk=summary.pk)


def test_a_vllm_summary_is_verified_and_stored(celery_worker_process, vllm_backend, chart, clinician, client):
    wait_indexed(chart)
    vllm_backend.script(reply(cite_first_sentences))
    summary = finished(request_summary(client, clinician, chart))
    assert summary.status == SummaryStatus.DONE, summary.error
    assert (summary.backend, summary.model, summary.prompt_version) == ("vllm", vllm_backend.model, "chart-review-v1")
    assert summary.n_claims == 3 and summary.supported_fraction == 1.0
    assert summary.tokens_in > 0 and summary.tokens_out > 0 and summary.latency_ms is not None


def test_garbage_from_the_model_fails_the_summary_with_a_reason(
    celery_worker_process, vllm_backend, chart, clinician, client
):
    wait_indexed(chart)
    vllm_backend.script(malformed())
    summary = finished(request_summary(client, clinician, chart))
    assert summary.status == SummaryStatus.FAILED
    assert "not valid JSON" in summary.error
    page = client.get(reverse("summary_detail", args=[summary.pk]))
    assert b"Try again" in page.content
    # The worker survived and serves the retry.
    vllm_backend.script(reply(cite_first_sentences))
    client.post(reverse("summary_retry", args=[summary.pk]))
    retried = finished(Summary.objects.filter(patient=chart).latest("created_at"))
    assert retried.pk != summary.pk and retried.status == SummaryStatus.DONE


def test_a_down_model_server_is_retried_then_fails_clearly(
    celery_worker_process, vllm_backend, chart, clinician, client, settings
):
    from tests.llm_stub import error

    wait_indexed(chart)
    vllm_backend.script(error(503), error(503), reply(cite_first_sentences))
    summary = finished(request_summary(client, clinician, chart))
    assert summary.status == SummaryStatus.DONE, summary.error
    assert len(vllm_backend.requests) == 3  # two 503s retried with backoff, then the answer


def test_killing_the_worker_process_mid_task_loses_no_job(
    celery_worker_process, vllm_backend, chart, clinician, client
):
    wait_indexed(chart)
    vllm_backend.script(sleep(30), reply(cite_first_sentences))
    summary = request_summary(client, clinician, chart)
    wait_for(lambda: len(vllm_backend.requests) >= 1, what="the worker to call the model")
    pool = psutil.Process(celery_worker_process.pid).children()
    assert pool, "the worker has no pool process"
    for child in pool:
        os.kill(child.pid, signal.SIGKILL)
    summary = finished(summary)
    assert summary.status == SummaryStatus.DONE, summary.error
    assert summary.attempts == 2
    assert celery_worker_process.poll() is None  # the worker itself lives on
