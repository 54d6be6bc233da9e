"""The grounded-generation job on the real stack (PostgreSQL, the embedder, the vLLM stub):
one pipeline for every kind of job, a third kind being a template, and the job rules that
summaries and drafts used to each have their own copy of."""

from __future__ import annotations

import json
import re
import time

import pytest
from celery import shared_task
from django.db import connection
from django.utils import timezone

from clinsum.charts.indexing import notes_index
from clinsum.charts.models import Note
from clinsum.charts.services import notes_ingest
from clinsum.drafting.models import DraftStatus
from clinsum.drafting.selectors import draft_unresolved
from clinsum.drafting.services import draft_create, draft_run
from clinsum.summaries.generation.jobs import Plan, job_fail, job_run, job_task_run
from clinsum.summaries.jobs import SUMMARY_JOB
from clinsum.summaries.models import Citation, Claim, ModelCall, Summary, SummaryStatus
from clinsum.summaries.prompts import PromptSpec, system_rules_compose
from clinsum.summaries.sections import SummarySection
from clinsum.summaries.services import summary_run
from clinsum.summaries.tasks import summary_generate
from tests.conftest import note_record, wait_for
from tests.llm_stub import error, reply

_SOURCE = re.compile(r'<source id="(?P<id>[^"]+)"[^>]*>\n(?P<text>.*?)\n</source>', re.S)
FUROSEMIDE = "Furosemide 40 mg IV twice daily."


@pytest.fixture
def chart(ward):
    """Patient p1 (4W): three indexed notes."""
    notes_ingest(
        notes=[
            note_record(
                "T-001", "ASSESSMENT: Acute on chronic systolic heart failure. Ejection fraction 30%.", days_ago=3
            ),
            note_record("T-001", f"MEDICATIONS: {FUROSEMIDE} Metoprolol succinate 25 mg daily.", days_ago=2),
            note_record("T-001", "PLAN: Repeat BMP in 3 days. Daily weights.", days_ago=1),
        ],
        enqueue=False,
    )
    patient = ward["p1"]
    notes_index(note_ids=list(Note.objects.filter(patient=patient).values_list("pk", flat=True)))
    return patient


def _sources(request: dict) -> dict[str, str]:
    return {m["id"]: m["text"] for m in _SOURCE.finditer(request["messages"][1]["content"])}


def _section_keys(request: dict) -> list[str]:
    return list(request["response_format"]["json_schema"]["schema"]["properties"]["sections"]["properties"])


# --- a third kind is a template -------------------------------------------------------------------

ANSWER = SummarySection(
    "answer", "Answer", "current medications with dose, route and frequency", ("medications", "plan"), max_claims=3
)
QUESTION_PROMPT = PromptSpec(
    version="chart-question-test-v1",
    schema_name="chart_question_answer",
    system_rules=system_rules_compose(
        role="You answer a clinician's question from excerpts of one patient's notes.",
        style="Answer in short sentences.",
    ),
    task_line="Answer this question about the patient: which medications is the patient on?",
)


class QuestionJob:
    """A third kind of grounded text (an answer to a chart question), kept in Summary rows so
    the test needs no model of its own: the plan and the rows are all it writes."""

    model = Summary
    requester = "requested_by"
    stored: str = SummaryStatus.DONE
    call_owner = "summary_id"
    no_sources = "this chart has no indexed notes to answer from"

    def plan(self, job):
        return Plan(sections=(ANSWER,), prompt=QUESTION_PROMPT)

    def rows_store(self, *, job, verified, sources):
        for ordinal, (generated, check) in enumerate(verified):
            claim = Claim.objects.create(
                summary=job,
                section=generated.section,
                ordinal=ordinal,
                text=generated.text,
                verdict=check.verdict,
                verdict_reason=check.reason[:300],
            )
            Citation.objects.bulk_create(
                [Citation(claim=claim, **Citation.fields_of(c)) for c in check.citations if c.hit is not None]
            )
        return {"n_claims": len(verified)}


QUESTION_JOB = QuestionJob()


@shared_task(bind=True, acks_late=True, time_limit=660, soft_time_limit=600, max_retries=2)
def question_answer(self, summary_id: int) -> None:
    job_task_run(self, QUESTION_JOB, job_id=summary_id)


def answer_with_one_invention(request: dict) -> str:
    """The furosemide line, quoted and cited; and a drug no source names, cited to an invented id."""
    source_id = next(s for s, text in _sources(request).items() if "Furosemide" in text)
    return json.dumps(
        {
            "sections": {
                "answer": [
                    {"text": FUROSEMIDE, "citations": [{"source_id": source_id, "quote": FUROSEMIDE}]},
                    {
                        "text": "Warfarin 5 mg daily.",
                        "citations": [{"source_id": "S999", "quote": "Warfarin 5 mg daily"}],
                    },
                ]
            }
        }
    )


def test_a_third_kind_runs_through_the_same_claim_run_retry_and_store(chart, clinician, vllm_backend):
    vllm_backend.script(error(503), reply(answer_with_one_invention))
    job = Summary.objects.create(
        patient=chart, requested_by=clinician, backend="vllm", model=vllm_backend.model, fingerprint="question"
    )
    question_answer.apply(args=[job.pk])  # eager: the retry runs at once
    job.refresh_from_db()
    assert job.status == SummaryStatus.DONE, job.error
    assert (job.attempts, job.n_claims, job.prompt_version) == (1, 2, "chart-question-test-v1")
    assert job.started_at and job.finished_at and job.latency_ms is not None and job.tokens_in > 0

    # its own prompt and sections went to the backend
    request = vllm_backend.requests[-1]
    assert request["messages"][0]["content"] == QUESTION_PROMPT.system_rules
    assert request["messages"][1]["content"].startswith(QUESTION_PROMPT.task_line)
    assert request["response_format"]["json_schema"]["name"] == "chart_question_answer"
    assert _section_keys(request) == ["answer"]
    # every claim verified by the shared store: the invented citation is not shown as fact
    furosemide, warfarin = job.claims.order_by("ordinal")
    assert (furosemide.verdict, warfarin.verdict) == ("supported", "unsupported")
    [citation] = furosemide.citations.select_related("note")
    assert citation.note.patient_id == chart.pk
    assert citation.note.text[citation.char_start : citation.char_end] == FUROSEMIDE
    assert not warfarin.citations.exists()
    # both tries recorded with the job
    assert list(ModelCall.objects.filter(summary=job).values_list("attempt", "outcome", "prompt_version")) == [
        (1, "http_error", "chart-question-test-v1"),
        (2, "ok", "chart-question-test-v1"),
    ]

    job_run(QUESTION_JOB, job_id=job.pk)  # a redelivery after it was stored
    assert len(vllm_backend.requests) == 2 and job.claims.count() == 2


def test_a_third_kind_fails_on_a_chart_without_notes_with_its_own_reason(ward, clinician, vllm_backend):
    job = Summary.objects.create(
        patient=ward["p2"], requested_by=clinician, backend="vllm", model=vllm_backend.model, fingerprint="question"
    )
    job_run(QUESTION_JOB, job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == (SummaryStatus.FAILED, "this chart has no indexed notes to answer from")
    assert not vllm_backend.requests


# --- one "not documented" rule ----------------------------------------------------------------------

DECLINED = ["**Not documented.**", "- not documented -", "Not documented:", "NOT DOCUMENTED"]


def declining_answer(request: dict) -> str:
    """The first section quotes its first source; every other section is the model declining to
    guess, written as models write it (not always exactly "Not documented.")."""
    source_id, text = next(iter(_sources(request).items()))
    quote = re.split(r"(?<=[.;])\s", text.strip(), maxsplit=1)[0]
    first, *others = _section_keys(request)
    sections = {first: [{"text": quote, "citations": [{"source_id": source_id, "quote": quote}]}]}
    for index, key in enumerate(others):
        sections[key] = [{"text": DECLINED[index % len(DECLINED)], "citations": []}]
    return json.dumps({"sections": sections})


def test_a_draft_drops_the_models_not_documented_as_a_summary_does(chart, nurse, clinician, vllm_backend):
    """Drafts used to keep "**Not documented.**" as a drafted sentence: unverifiable, so it
    blocked signing until the nurse deleted it."""
    vllm_backend.script(reply(declining_answer), reply(declining_answer))
    draft = draft_create(patient=chart, user=nurse, kind_key="sbar_handoff")
    draft_run(draft_id=draft.pk)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.READY, draft.error
    assert [s.verdict for s in draft.sentences.all()] == ["supported"]
    assert draft_unresolved(draft=draft) == 0

    summary = Summary.objects.create(
        patient=chart, requested_by=clinician, backend="vllm", model=vllm_backend.model, fingerprint="t"
    )
    summary_run(summary_id=summary.pk)
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.DONE and summary.n_claims == 1
    assert not summary.claims.filter(text__icontains="documented").exists()


# --- one failure rule ------------------------------------------------------------------------------


def test_only_a_job_in_progress_fails(chart, clinician):
    """A stored job stays stored and a failed one keeps its first reason (summaries used to
    overwrite the reason of a failed summary)."""
    failed = Summary.objects.create(
        patient=chart,
        requested_by=clinician,
        backend="vllm",
        fingerprint="a",
        status=SummaryStatus.FAILED,
        error="the first reason",
    )
    done = Summary.objects.create(
        patient=chart, requested_by=clinician, backend="vllm", fingerprint="b", status=SummaryStatus.DONE
    )
    running = Summary.objects.create(
        patient=chart, requested_by=clinician, backend="vllm", fingerprint="c", status=SummaryStatus.RUNNING
    )
    for job in (failed, done, running):
        job_fail(SUMMARY_JOB, job_id=job.pk, reason="a later reason")
    assert list(Summary.objects.order_by("pk").values_list("status", "error")) == [
        ("failed", "the first reason"),
        ("done", ""),
        ("failed", "a later reason"),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_busy_model_does_not_requeue_a_job_that_another_delivery_stored(chart, clinician, vllm_backend, settings):
    """While this delivery waits on the model, another delivery (a redelivered task) stores the
    summary. The timeout that follows must not put the stored summary back in the queue: it
    used to be requeued, run again and, with the model still failing, end `failed`."""
    settings.LLM_TIMEOUT_S = 1
    summary = Summary.objects.create(
        patient=chart, requested_by=clinician, backend="vllm", model=vllm_backend.model, fingerprint="t"
    )
    finished_at = timezone.now()

    def stored_elsewhere_then_slow(request: dict) -> str:
        Summary.objects.filter(pk=summary.pk).update(status=SummaryStatus.DONE, finished_at=finished_at, n_claims=7)
        connection.close()  # this runs in the stub's thread
        time.sleep(2)  # past the client's timeout: a retryable error for this delivery
        return '{"sections": {}}'

    vllm_backend.script(reply(stored_elsewhere_then_slow))  # any further request gets a 500
    summary_generate.apply(args=[summary.pk])
    summary.refresh_from_db()
    assert len(vllm_backend.requests) == 1
    assert (summary.status, summary.finished_at, summary.n_claims, summary.error) == (
        SummaryStatus.DONE,
        finished_at,
        7,
        "",
    )
    wait_for(lambda: vllm_backend.responses, timeout=10, what="the stub's late answer")  # not in the next test's
