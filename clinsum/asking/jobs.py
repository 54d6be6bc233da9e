"""An answer to a chart question as a grounded-generation job (clinsum/summaries/generation/jobs.py):
the job's life (claim, the asker's scope, the model-call record, every sentence verified,
stored or failed, retries) is the summaries'; its retrieval (hybrid search for the question over
this patient's chunks, the whole chart for the chart reader) and its answerer are its own hooks.
The answerer is the job's backend: extractive (retrieval/clinical/answers.py) or vLLM (the
question prompt, clinsum/asking/prompts.py, over the best-ranked chunks that fit the context)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import connection

from clinsum.charts.indexing import embedder_get
from clinsum.summaries.backends import (
    GeneratedCitation,
    GeneratedClaim,
    Generation,
    GenerationError,
    ModelCallRecord,
    Recorder,
)
from clinsum.summaries.backends.vllm import ESTIMATE_MARGIN, client_build, structured_ask
from clinsum.summaries.generation.calls import in_process_call
from clinsum.summaries.generation.jobs import Plan
from clinsum.summaries.generation.sources import CHART_CHUNKS
from clinsum.summaries.prompts import CHART_REVIEW, batches_split, estimate_tokens
from clinsum.summaries.verification import OUT_OF_DATE, SUPPORTED, ClaimCheck
from retrieval.clinical.answers import about_present, about_the_past, question_answer
from retrieval.search import patient_chunks, patient_hybrid_search
from retrieval.types import AccessScope, Hit

from . import prompts
from .models import AnswerCitation, AnswerSentence, Question, QuestionStatus

PROMPT_VERSION = "ask-extractive-1"
MODEL = "extractive (no LLM)"
RANKED_CHUNKS = 20  # hybrid hits that rank the chart's statements and name the closest notes
RECENCY_HALF_LIFE_DAYS = 3.0  # "current", "still", "latest": newer notes weigh more
CLOSEST_NOTES = 5
VLLM_ANSWER_TOKENS = 1024  # room kept for the answer (a few cited sentences) and sent as max_tokens


def backend_identity() -> tuple[str, str, str]:
    """(backend, model, prompt version) a new question is made with, from SUMMARY_BACKEND."""
    if settings.SUMMARY_BACKEND == "vllm":
        return "vllm", settings.LLM_MODEL, prompts.PROMPT_VERSION
    return "extractive", MODEL, PROMPT_VERSION


def vllm_sources(*, question: str, sources: dict[str, Hit], ranked: list[str], context_tokens: int) -> list[str]:
    """The source ids sent to the model: the best-ranked first, as many as fit the context
    after the rules, the question and the answer's room (one batch; a question is not mapped
    and reduced). At least the best one, however long: chunks are small by construction."""
    answer_tokens = min(VLLM_ANSWER_TOKENS, context_tokens // 4)
    overhead = estimate_tokens(prompts.SYSTEM_RULES) + estimate_tokens(
        prompts.user_message(question=question, sources=sources, source_ids=[])
    )
    budget = max(1, int((context_tokens - answer_tokens) * ESTIMATE_MARGIN) - overhead)
    batches = batches_split(source_ids=ranked, sources=sources, budget_tokens=budget)
    return batches[0] if batches else []


class QuestionJob:
    model = Question
    requester = "asked_by"
    stored: str = QuestionStatus.ANSWERED
    call_owner = "question_id"
    no_sources = "this chart has no indexed notes to answer from"

    def plan(self, job: Question) -> Plan:
        return Plan(sections=(), prompt=CHART_REVIEW)

    def sources_retrieve(self, *, job: Question, scope: AccessScope) -> tuple[dict[str, Hit], dict[str, list[str]]]:
        """The whole chart (numbered oldest first, as the chart reader reads it) and the order
        hybrid search (vector + full text, fused; recency when the question is about the
        present) ranks its chunks for the question. The scope is inside both statements."""
        vector = embedder_get().encode([job.text])[0]
        with connection.cursor() as cursor:
            chart = patient_chunks(cursor, patient_id=job.patient_id, scope=scope, limit=CHART_CHUNKS)
            ranked = patient_hybrid_search(
                cursor,
                patient_id=job.patient_id,
                query_text=job.text,
                query_vector=vector,
                k=RANKED_CHUNKS,
                scope=scope,
                recency_half_life_days=RECENCY_HALF_LIFE_DAYS if about_present(job.text) else None,
            )
        sources: dict[str, Hit] = {}
        by_chunk: dict[int, str] = {}
        for i, hit in enumerate(reversed(chart), start=1):
            sources[f"S{i}"] = hit
            by_chunk[hit.chunk_id] = f"S{i}"
        order = [by_chunk[hit.chunk_id] for hit in ranked if hit.chunk_id in by_chunk]
        closest = list(dict.fromkeys(sources[s].note_id for s in order))[:CLOSEST_NOTES]
        Question.objects.filter(pk=job.pk).update(source_note_ids=closest)
        return sources, {"ranked": order}

    def generate(
        self,
        *,
        job: Question,
        sources: dict[str, Hit],
        section_sources: dict[str, list[str]],
        record: Recorder | None,
    ) -> Generation:
        ranked = section_sources.get("ranked", [])
        if job.backend == "vllm":
            return self._vllm_generate(job=job, sources=sources, ranked=ranked, record=record)
        return self._extractive_generate(job=job, sources=sources, ranked=ranked, record=record)

    def _vllm_generate(
        self, *, job: Question, sources: dict[str, Hit], ranked: list[str], record: Recorder | None
    ) -> Generation:
        """The question and the best-ranked sources to the hospital's model, the answer constrained
        to the question schema; its failures are the summaries' (retryable or a reason)."""
        model = job.model or settings.LLM_MODEL
        if not model:
            raise GenerationError("LLM_MODEL is not configured", retryable=False)
        context = settings.LLM_CONTEXT_TOKENS
        sent = vllm_sources(question=job.text, sources=sources, ranked=ranked, context_tokens=context)
        if not sent:  # nothing in the chart ranks for the question: "The chart does not say"
            return Generation(claims=[], model=model, prompt_version=prompts.PROMPT_VERSION)
        answered = structured_ask(
            client=client_build(),
            model=model,
            messages=prompts.messages_build(question=job.text, sources=sources, source_ids=sent),
            response_format=prompts.question_response_format(source_ids=sent),
            parse=prompts.answer_parse,
            answer_tokens=min(VLLM_ANSWER_TOKENS, context // 4),
            prompt_version=prompts.PROMPT_VERSION,
            note_ids=sorted({sources[s].note_id for s in sent}),
            record=record,
            what="answer",
        )
        return Generation(
            claims=answered.value,
            model=answered.model,
            prompt_version=prompts.PROMPT_VERSION,
            tokens_in=answered.tokens_in,
            tokens_out=answered.tokens_out,
        )

    def _extractive_generate(
        self, *, job: Question, sources: dict[str, Hit], ranked: list[str], record: Recorder | None
    ) -> Generation:
        call = ModelCallRecord(
            backend="extractive",
            prompt_version=PROMPT_VERSION,
            note_ids=sorted({hit.note_id for hit in sources.values()}),
            # The question is the job's own text (it holds PHI like the sources: the record is
            # read by privacy officers only); the sources are named by chunk.
            request_body=json.dumps(
                {
                    "question_id": job.pk,
                    "ranked": ranked,
                    "source_chunks": {sid: hit.chunk_id for sid, hit in sources.items()},
                }
            ),
        )
        with in_process_call(call, record):
            answer = question_answer(question=job.text, sources=sources, ranked=ranked)
            claims = [
                GeneratedClaim(
                    "answer", f.text, tuple(GeneratedCitation(sid, quote) for sid, quote in f.cites), kind=f.kind
                )
                for f in answer.sentences
            ]
            call.response_body = json.dumps(
                {
                    "answer": [{"text": c.text, "citations": [vars(x) for x in c.citations]} for c in claims],
                    "not_in_chart": answer.abstained,
                    "closest": answer.closest,
                },
                ensure_ascii=False,
            )
            return Generation(claims=claims, model=MODEL, prompt_version=PROMPT_VERSION)

    def rows_store(
        self, *, job: Question, verified: list[tuple[GeneratedClaim, ClaimCheck]], sources: dict[str, Hit]
    ) -> dict[str, Any]:
        past = about_the_past(job.text)
        shown = []
        for ordinal, (generated, check) in enumerate(verified):
            verdict, reason = check.verdict, check.reason
            if past and verdict == OUT_OF_DATE and not about_present(generated.text):
                # "What was the first CRP?": the quote holds and answers it; the newer note that
                # differs stays cited beside it (newer=True), and the reason says so. A sentence
                # that itself claims the present ("still on heparin") stays out of date.
                verdict, reason = SUPPORTED, f"true when written; {reason}"
            shown.append(verdict == SUPPORTED)
            sentence = AnswerSentence.objects.create(
                question=job,
                ordinal=ordinal,
                text=" ".join(generated.text.split()),
                verdict=verdict,
                verdict_reason=reason[:300],
            )
            AnswerCitation.objects.bulk_create(
                [
                    AnswerCitation(sentence=sentence, **AnswerCitation.fields_of(c))
                    for c in check.citations
                    if c.hit is not None
                ]
            )
        # Only a supported sentence is an answer: without one the chart "does not say".
        return {"abstained": not any(shown)}


QUESTION_JOB = QuestionJob()
