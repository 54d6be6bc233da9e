"""Calling a generation backend for a job: which backend, model and prompt a new job gets,
the call itself, and its record (a summaries.ModelCall row per request)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db.models import Max

from clinsum.charts.indexing import embedder_get
from clinsum.summaries.backends import Generation, ModelCallRecord, Recorder
from clinsum.summaries.backends.extractive import PROMPT_VERSION as EXTRACTIVE_PROMPT_VERSION
from clinsum.summaries.backends.extractive import extractive_generate
from clinsum.summaries.models import CallOutcome, ModelCall
from clinsum.summaries.prompts import CHART_REVIEW, PromptSpec
from clinsum.summaries.sections import SummarySection
from retrieval.types import Hit


def backend_identity(*, prompt: PromptSpec) -> tuple[str, str, str]:
    """(backend, model, prompt version) that a new job with this prompt would be made with;
    the extractive backend has one version of its own, whatever the prompt."""
    if settings.SUMMARY_BACKEND == "extractive":
        return "extractive", "", EXTRACTIVE_PROMPT_VERSION
    return "vllm", settings.LLM_MODEL, prompt.version


def model_call_recorder(**owner: int) -> Recorder:
    """A recorder for one run of a job's generation, `owner` naming the job's ModelCall column
    (summary_id=..., draft_id=...): each backend call becomes a ModelCall row at once
    (autocommit in the worker), so the calls of a run that fails or is retried stay on record.
    The run's number is one more than the job's last recorded run."""
    if len(owner) != 1:
        raise TypeError("a model call belongs to exactly one job")
    attempt = (ModelCall.objects.filter(**owner).aggregate(last=Max("attempt"))["last"] or 0) + 1
    index = itertools.count(1)

    def record(call: ModelCallRecord) -> None:
        # Cut to the columns' sizes: a long reason or model name must not fail the job.
        fields = dataclasses.asdict(call) | {
            "backend": call.backend[:32],
            "model": call.model[:200],
            "prompt_version": call.prompt_version[:32],
            "error": call.error[:500],
        }
        ModelCall.objects.create(**owner, attempt=attempt, call_index=next(index), **fields)

    return record


def generation_json(generation: Generation) -> str:
    """The extractive backend's answer as a model's would read: claims by section, with citations."""
    return json.dumps(
        {
            "claims": [dataclasses.asdict(claim) for claim in generation.claims],
            "model": generation.model,
            "prompt_version": generation.prompt_version,
        },
        ensure_ascii=False,
    )


@contextmanager
def in_process_call(call: ModelCallRecord, record: Recorder | None) -> Iterator[ModelCallRecord]:
    """An in-process backend's call (the extractive summariser, the question answerer): timed,
    an exception recorded as an internal error by its type only, and the call handed to
    `record` whatever happened."""
    started = time.monotonic()
    try:
        yield call
    except Exception as exc:
        call.outcome, call.error = CallOutcome.ERROR, f"internal error ({type(exc).__name__})"
        raise
    finally:
        call.latency_ms = int((time.monotonic() - started) * 1000)
        if record is not None:
            record(call)


def _extractive_generate(
    *,
    sections: tuple[SummarySection, ...],
    sources: dict[str, Hit],
    section_sources: dict[str, list[str]],
    record: Recorder | None,
) -> Generation:
    call = ModelCallRecord(
        backend="extractive",
        prompt_version=EXTRACTIVE_PROMPT_VERSION,
        note_ids=sorted({hit.note_id for hit in sources.values()}),
        request_body=json.dumps(
            {
                "sections": [s.key for s in sections],
                "section_sources": section_sources,
                "source_chunks": {source_id: hit.chunk_id for source_id, hit in sources.items()},
            }
        ),
    )
    with in_process_call(call, record):
        generation = extractive_generate(
            sections=sections, section_sources=section_sources, sources=sources, embedder=embedder_get()
        )
        call.response_body = generation_json(generation)
        return generation


def grounded_generate(
    *,
    backend: str,
    sections: tuple[SummarySection, ...],
    sources: dict[str, Hit],
    section_sources: dict[str, list[str]],
    prompt: PromptSpec = CHART_REVIEW,
    record: Recorder | None = None,
) -> Generation:
    """Sections of cited claims from numbered sources, by the named backend; the caller
    verifies every claim (jobs.job_store). `record` is given every backend call."""
    if backend == "extractive":
        return _extractive_generate(sections=sections, sources=sources, section_sources=section_sources, record=record)
    from clinsum.summaries.backends.vllm import vllm_generate

    return vllm_generate(
        sections=sections, section_sources=section_sources, sources=sources, prompt=prompt, record=record
    )
