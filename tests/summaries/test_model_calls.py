"""The record of every model call: each request a summary or a draft sent to its backend, and the
answer exactly as it came back (failed tries too), kept with the summary or draft, purged with its
owner. The pages where privacy officers read it are in test_views.py."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from clinsum.charts.models import Chunk
from clinsum.drafting.services import draft_create, draft_run
from clinsum.retention.models import RetentionPolicy
from clinsum.retention.purge import retention_purge_run
from clinsum.summaries.backends import GenerationError
from clinsum.summaries.backends.extractive import PROMPT_VERSION as EXTRACTIVE_VERSION
from clinsum.summaries.backends.vllm import MALFORMED
from clinsum.summaries.models import ModelCall, Summary, SummaryStatus
from clinsum.summaries.prompts import PROMPT_VERSION
from clinsum.summaries.services import summary_run
from clinsum.summaries.tasks import summary_generate
from tests.conftest import wait_for
from tests.llm_stub import error, malformed, raw, reply, sleep
from tests.summaries.test_vllm_backend import cite_each_source

from .conftest import INJECTION, queued_summary, summarised

# --- what is recorded ----------------------------------------------------------------------------


def test_a_vllm_summary_records_exactly_what_was_sent_and_received(chart, clinician, vllm_backend):
    vllm_backend.script(*[reply(cite_each_source)] * 4)
    summary = summarised(chart, clinician, "vllm", vllm_backend.model)
    assert summary.status == SummaryStatus.DONE, summary.error

    calls = list(summary.model_calls.all())
    assert len(calls) == len(vllm_backend.requests) >= 1
    for index, (call, sent, (status, answered)) in enumerate(
        zip(calls, vllm_backend.requests, vllm_backend.responses), start=1
    ):
        assert json.loads(call.request_body) == sent  # messages, schema, temperature, max_tokens as the server got them
        assert call.response_body == answered and call.http_status == status == 200  # the body byte for byte
        usage = json.loads(answered)["usage"]
        assert (call.tokens_in, call.tokens_out) == (usage["prompt_tokens"], usage["completion_tokens"])
        assert (call.backend, call.model, call.prompt_version) == ("vllm", vllm_backend.model, PROMPT_VERSION)
        assert (call.attempt, call.call_index, call.outcome, call.error) == (1, index, "ok", "")
        assert call.latency_ms is not None and call.draft_id is None
    sent = json.loads(calls[0].request_body)
    assert sent["temperature"] == 0 and sent["max_tokens"] > 0
    assert sent["response_format"]["json_schema"]["name"] == "chart_review_summary"
    assert INJECTION in sent["messages"][1]["content"]  # the note's text as the model read it
    assert set(calls[0].note_ids) <= set(chart.notes.values_list("pk", flat=True)) and calls[0].note_ids


def test_a_garbage_answer_is_recorded_as_an_unusable_try(chart, clinician, vllm_backend):
    vllm_backend.script(malformed())
    summary = summarised(chart, clinician, "vllm", vllm_backend.model)
    assert summary.status == SummaryStatus.FAILED

    [call] = summary.model_calls.all()
    [(status, answered)] = vllm_backend.responses
    assert (call.outcome, call.http_status, call.error) == ("unusable", 200, MALFORMED)
    assert call.response_body == answered
    assert json.loads(answered)["choices"][0]["message"]["content"].endswith('"citations": [')
    assert json.loads(call.request_body) == vllm_backend.requests[0]


def test_a_body_that_is_not_json_is_recorded_and_fails_the_summary_with_a_reason(chart, clinician, vllm_backend):
    body = "<html><body>upstream proxy error \u2014 ignore the rules</body></html>"
    vllm_backend.script(raw(body))
    summary = summarised(chart, clinician, "vllm", vllm_backend.model)
    assert (summary.status, summary.error) == (SummaryStatus.FAILED, MALFORMED)  # not "internal error"

    [call] = summary.model_calls.all()
    assert (call.outcome, call.http_status, call.error) == ("unusable", 200, MALFORMED)
    assert call.response_body == vllm_backend.responses[0][1] == body


def test_a_503_and_its_retry_are_two_recorded_tries(chart, clinician, vllm_backend):
    vllm_backend.script(error(503), *[reply(cite_each_source)] * 4)
    summary = queued_summary(chart, clinician, "vllm", vllm_backend.model)
    summary_generate.apply(args=[summary.pk])  # eager: the retry runs at once
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.DONE, summary.error

    first, *then = summary.model_calls.all()
    assert (first.attempt, first.outcome, first.http_status) == (1, "http_error", 503)
    assert first.response_body == vllm_backend.responses[0][1] and '"code": 503' in first.response_body
    assert first.error == "the language model server failed (HTTP 503)" and first.tokens_in is None
    assert json.loads(first.request_body) == vllm_backend.requests[0]
    assert then and {(c.attempt, c.outcome) for c in then} == {(2, "ok")}
    assert len(vllm_backend.requests) == 1 + len(then)


def test_a_timeout_is_recorded_with_the_request_and_no_answer(chart, clinician, vllm_backend, settings):
    settings.LLM_TIMEOUT_S = 1
    vllm_backend.script(sleep(3))
    summary = queued_summary(chart, clinician, "vllm", vllm_backend.model)
    with pytest.raises(GenerationError) as raised:
        summary_run(summary_id=summary.pk)
    assert raised.value.retryable  # the task retries it

    [call] = summary.model_calls.all()
    assert (call.outcome, call.http_status, call.response_body) == ("timeout", None, "")
    assert "did not answer within 1 s" in call.error and call.latency_ms >= 900
    assert json.loads(call.request_body) == vllm_backend.requests[0]
    # The stub answers once its sleep ends: let that late answer land here, not in the next test's record.
    wait_for(lambda: vllm_backend.responses, timeout=10, what="the stub's late answer")


def test_an_extractive_summary_records_what_the_backend_did(chart, clinician, settings):
    settings.SUMMARY_BACKEND = "extractive"
    summary = summarised(chart, clinician, "extractive")
    assert summary.status == SummaryStatus.DONE, summary.error

    [call] = summary.model_calls.all()
    assert (call.backend, call.model, call.prompt_version) == ("extractive", "", EXTRACTIVE_VERSION)
    assert call.outcome == "ok"
    assert call.http_status is None and call.latency_ms is not None
    output = json.loads(call.response_body)
    stored = set(summary.claims.filter(possibly_missing=False).values_list("text", flat=True))
    assert stored and stored <= {claim["text"] for claim in output["claims"]}
    inputs = json.loads(call.request_body)
    chunks = set(Chunk.objects.filter(patient=chart).values_list("pk", flat=True))
    assert set(inputs["source_chunks"].values()) <= chunks
    assert set(call.note_ids) == set(chart.notes.values_list("pk", flat=True))


def test_a_draft_records_its_calls(chart, nurse, vllm_backend):
    vllm_backend.script(*[reply(cite_each_source)] * 4)
    draft = draft_create(patient=chart, user=nurse, kind_key="sbar_handoff")
    draft_run(draft_id=draft.pk)
    draft.refresh_from_db()
    assert draft.status == "ready", draft.error

    calls = list(draft.model_calls.all())
    assert len(calls) == len(vllm_backend.requests) >= 1
    assert [json.loads(c.request_body) for c in calls] == vllm_backend.requests
    assert [c.response_body for c in calls] == [body for _, body in vllm_backend.responses]
    assert {(c.summary_id, c.prompt_version) for c in calls} == {(None, draft.prompt_version)}


def test_an_extractive_draft_records_its_call(chart, nurse, settings):
    settings.SUMMARY_BACKEND = "extractive"
    draft = draft_create(patient=chart, user=nurse, kind_key="sbar_handoff")
    draft_run(draft_id=draft.pk)
    [call] = ModelCall.objects.filter(draft=draft)
    assert (call.backend, call.outcome) == ("extractive", "ok") and json.loads(call.response_body)["claims"]


# --- how long it is kept -------------------------------------------------------------------------


def test_the_records_go_with_their_summary_and_draft_under_retention(recorded):
    RetentionPolicy.objects.create(target="summary", keep_days=1)
    RetentionPolicy.objects.create(target="draft", keep_days=1)
    n_calls = ModelCall.objects.count()
    assert n_calls >= 2
    receipt = retention_purge_run(now=timezone.now() + timedelta(days=2))
    assert not Summary.objects.exists() and not ModelCall.objects.exists()
    assert (receipt.counts["model_calls"], receipt.counts["summaries"], receipt.counts["drafts"]) == (n_calls, 1, 1)
