"""Summaries: request (web), run (worker). Retrieval -> backend -> verification -> rows."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import re
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from clinsum.access.selectors import access_scope, may_read
from clinsum.charts.indexing import embedder_get, notes_index
from clinsum.charts.models import EmbeddingStatus, Note, Patient
from retrieval.clinical.chart import chart_read
from retrieval.search import patient_chunks, patient_vector_search
from retrieval.types import AccessScope, Hit

from .backends import Generation, GenerationError, ModelCallRecord, Recorder
from .backends.extractive import PROMPT_VERSION as EXTRACTIVE_PROMPT_VERSION
from .backends.extractive import extractive_generate
from .models import CallOutcome, Citation, Claim, ModelCall, Summary, SummaryStatus
from .prompts import CHART_REVIEW, PromptSpec
from .sections import SUMMARY_SECTIONS, SummarySection
from .omissions import omissions_find
from .verification import PARTLY, SUPPORTED, claim_verify

logger = logging.getLogger(__name__)

CHUNKS_PER_SECTION = 12
CHART_CHUNKS = 5000  # the whole chart for the extractive backend (the largest Synthea chart has about 2,000)
# Why a summary or draft fails when the person who asked lost the chart before the worker ran.
REQUESTER_OUT_OF_SCOPE = "the person who asked for it may no longer read this chart"
_NOT_DOCUMENTED = re.compile(r"^\W*not documented\W*$", re.IGNORECASE)


def backend_identity() -> tuple[str, str, str]:
    """(backend, model, prompt version) that a new summary would be made with."""
    if settings.SUMMARY_BACKEND == "extractive":
        return "extractive", "", EXTRACTIVE_PROMPT_VERSION
    from .backends.vllm import PROMPT_VERSION

    return "vllm", settings.LLM_MODEL, PROMPT_VERSION


def patient_note_set_hash(*, patient_id: int) -> str:
    hashes = Note.objects.filter(patient_id=patient_id).order_by("content_hash").values_list("content_hash", flat=True)
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def summary_fingerprint(*, patient_id: int) -> str:
    backend, model, prompt_version = backend_identity()
    parts = [patient_note_set_hash(patient_id=patient_id), backend, model, prompt_version]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def summary_request(*, patient: Patient, user) -> tuple[Summary, bool]:
    """A summary of the chart as it is now: the cached one if nothing changed (same notes,
    backend, model, prompt), else a new queued one. Returns (summary, created)."""
    fingerprint = summary_fingerprint(patient_id=patient.pk)
    cached = (
        Summary.objects.filter(patient=patient, fingerprint=fingerprint)
        .exclude(status=SummaryStatus.FAILED).order_by("-created_at").first()
    )
    if cached is not None:
        return cached, False
    backend, model, prompt_version = backend_identity()
    with transaction.atomic():
        summary = Summary.objects.create(
            patient=patient, requested_by=user, backend=backend, model=model,
            prompt_version=prompt_version, fingerprint=fingerprint,
        )
        transaction.on_commit(lambda: summary_enqueue(summary_id=summary.pk))
    return summary, True


def summary_retry(*, summary: Summary, user) -> Summary:
    """A failed summary is re-run as a new row, so the failure stays on record."""
    Summary.objects.filter(pk=summary.pk, status=SummaryStatus.FAILED).update(fingerprint="")
    new, _ = summary_request(patient=summary.patient, user=user)
    return new


def summary_enqueue(*, summary_id: int) -> None:
    from .tasks import summary_generate

    summary_generate.delay(summary_id)


def _summary_claim(*, summary_id: int) -> Summary | None:
    """Claim the job; counts deliveries so a summary whose worker keeps dying ends `failed`."""
    now = timezone.now()
    claimed = Summary.objects.filter(
        pk=summary_id, status__in=[SummaryStatus.QUEUED, SummaryStatus.RUNNING]
    ).update(status=SummaryStatus.RUNNING, attempts=F("attempts") + 1, started_at=now)
    if not claimed:
        return None  # already finished (a redelivery after completion): nothing to do
    summary = Summary.objects.select_related("patient", "requested_by").get(pk=summary_id)
    if summary.attempts > settings.CLINSUM_MAX_TASK_DELIVERIES:
        summary_fail(summary_id=summary_id, reason=f"gave up after {summary.attempts - 1} interrupted attempts")
        return None
    return summary


def summary_fail(*, summary_id: int, reason: str) -> None:
    Summary.objects.filter(pk=summary_id).exclude(status=SummaryStatus.DONE).update(
        status=SummaryStatus.FAILED, error=reason[:500], finished_at=timezone.now()
    )
    logger.warning("summary %s failed: %s", summary_id, reason)


def summary_sources(
    *, patient_id: int, scope: AccessScope, sections: tuple[SummarySection, ...] = SUMMARY_SECTIONS,
    whole_chart: bool = False, chart_facts: bool = False,
) -> tuple[dict[str, Hit], dict[str, list[str]]]:
    """Retrieve each section's chunks of this patient; number them S1, S2, ... once, so the
    same id means the same chunk in the prompt, the answer and the stored citations.

    whole_chart: every chunk of the chart (newest notes first, up to CHART_CHUNKS) is a source,
    numbered oldest first, for the sections that read the chart as a whole (SummarySection.reader,
    extractive backend); the other sections still get their retrieved chunks.

    chart_facts (vLLM): the chunks holding what the chart reader found for a section (the newest
    complete medication list, every allergy statement, the diagnoses...) are that section's
    first sources, before its retrieved chunks, so a model summarises from the reconciled facts
    rather than from whatever chunks were nearest to a query."""
    sources: dict[str, Hit] = {}
    by_chunk: dict[int, str] = {}
    section_sources: dict[str, list[str]] = {}
    if whole_chart:
        with connection.cursor() as cursor:
            hits = patient_chunks(cursor, patient_id=patient_id, scope=scope, limit=CHART_CHUNKS)
        for i, hit in enumerate(reversed(hits), start=1):
            sources[f"S{i}"] = hit
            by_chunk[hit.chunk_id] = f"S{i}"
        # The chart reader reads every source; a section's own list is what retrieval finds for
        # it (for a reader that finds nothing, and for sections without a reader).
        sections = tuple(s for s in sections if not s.reader or s.reader_fallback)
        if not sections:
            return sources, {}
    elif chart_facts:
        with connection.cursor() as cursor:
            chart = {str(hit.chunk_id): hit for hit in reversed(
                patient_chunks(cursor, patient_id=patient_id, scope=scope, limit=CHART_CHUNKS))}
        findings = chart_read(chart)
        for section in sections:
            readers = {"problems" if r == "principal" else r for r in section.reader.split(",") if r}
            ids = section_sources.setdefault(section.key, [])
            for finding in findings:
                if finding.section not in readers:
                    continue
                for chunk_key, _ in finding.cites:
                    hit = chart[chunk_key]
                    if hit.chunk_id not in by_chunk:
                        by_chunk[hit.chunk_id] = f"S{len(by_chunk) + 1}"
                        sources[by_chunk[hit.chunk_id]] = hit
                    if by_chunk[hit.chunk_id] not in ids:
                        ids.append(by_chunk[hit.chunk_id])
    embedder = embedder_get()
    queries = embedder.encode([s.query for s in sections])
    with connection.cursor() as cursor:
        for section, vector in zip(sections, queries):
            ids = []
            for hit in patient_vector_search(cursor, patient_id=patient_id, query_vector=vector,
                                             k=CHUNKS_PER_SECTION, scope=scope):
                if hit.chunk_id not in by_chunk:
                    by_chunk[hit.chunk_id] = f"S{len(by_chunk) + 1}"
                    sources[by_chunk[hit.chunk_id]] = hit
                ids.append(by_chunk[hit.chunk_id])
            section_sources[section.key] = [*section_sources.get(section.key, []),
                                            *(i for i in ids if i not in section_sources.get(section.key, []))]
    return sources, section_sources


def model_call_recorder(*, summary_id: int | None = None, draft_id: int | None = None) -> Recorder:
    """A recorder for one run of a summary's or a draft's generation: each backend call becomes
    a ModelCall row at once (autocommit in the worker), so the calls of a run that fails or is
    retried stay on record. The run's number is one more than the job's last recorded run."""
    owner = {"summary_id": summary_id} if summary_id is not None else {"draft_id": draft_id}
    attempt = (ModelCall.objects.filter(**owner).aggregate(last=Max("attempt"))["last"] or 0) + 1
    index = itertools.count(1)

    def record(call: ModelCallRecord) -> None:
        # Cut to the columns' sizes: a long reason or model name must not fail the job.
        fields = dataclasses.asdict(call) | {"backend": call.backend[:32], "model": call.model[:200],
                                             "prompt_version": call.prompt_version[:32], "error": call.error[:500]}
        ModelCall.objects.create(**owner, attempt=attempt, call_index=next(index), **fields)

    return record


def generation_json(generation: Generation) -> str:
    """The extractive backend's answer as a model's would read: claims by section, with citations."""
    return json.dumps({"claims": [dataclasses.asdict(claim) for claim in generation.claims],
                       "model": generation.model, "prompt_version": generation.prompt_version}, ensure_ascii=False)


def _extractive_generate(*, sections: tuple[SummarySection, ...], sources: dict[str, Hit],
                         section_sources: dict[str, list[str]], record: Recorder | None) -> Generation:
    call = ModelCallRecord(
        backend="extractive", prompt_version=EXTRACTIVE_PROMPT_VERSION,
        note_ids=sorted({hit.note_id for hit in sources.values()}),
        request_body=json.dumps({"sections": [s.key for s in sections], "section_sources": section_sources,
                                 "source_chunks": {source_id: hit.chunk_id for source_id, hit in sources.items()}}))
    started = time.monotonic()
    try:
        generation = extractive_generate(sections=sections, section_sources=section_sources,
                                         sources=sources, embedder=embedder_get())
        call.response_body = generation_json(generation)
        return generation
    except Exception as exc:
        call.outcome, call.error = CallOutcome.ERROR, f"internal error ({type(exc).__name__})"
        raise
    finally:
        call.latency_ms = int((time.monotonic() - started) * 1000)
        if record is not None:
            record(call)


def grounded_generate(
    *, backend: str, sections: tuple[SummarySection, ...], sources: dict[str, Hit],
    section_sources: dict[str, list[str]], prompt: PromptSpec = CHART_REVIEW, record: Recorder | None = None,
) -> Generation:
    """Sections of cited claims from numbered sources, by the named backend. Shared by
    summaries and nursing drafts; the caller verifies every claim (claim_verify). `record`
    is given every backend call (model_call_recorder)."""
    if backend == "extractive":
        return _extractive_generate(sections=sections, sources=sources, section_sources=section_sources,
                                    record=record)
    from .backends.vllm import vllm_generate

    return vllm_generate(sections=sections, section_sources=section_sources, sources=sources, prompt=prompt,
                         record=record)


def patient_index_pending(*, patient_id: int) -> None:
    """Index what the embed queue has not reached yet, so no note is missed."""
    pending = list(Note.objects.filter(patient_id=patient_id)
                   .exclude(embedding_status=EmbeddingStatus.DONE).values_list("pk", flat=True))
    if pending:
        notes_index(note_ids=pending)


def _generate(summary: Summary, sources: dict[str, Hit], section_sources: dict[str, list[str]]) -> Generation:
    return grounded_generate(backend=summary.backend, sections=SUMMARY_SECTIONS, sources=sources,
                             section_sources=section_sources, record=model_call_recorder(summary_id=summary.pk))


def summary_run(*, summary_id: int) -> None:
    """Worker side. Never raises for a bad answer: the summary ends `done` or `failed`."""
    summary = _summary_claim(summary_id=summary_id)
    if summary is None:
        return
    # Retrieval reads as the person who asked, under the access rule as it stands now: the
    # scope goes inside the SQL, and a requester who lost the chart since gets no summary.
    requester = summary.requested_by
    if requester is None or not may_read(user=requester, patient_id=summary.patient_id):
        summary_fail(summary_id=summary.pk, reason=REQUESTER_OUT_OF_SCOPE)
        return
    started = time.monotonic()
    patient_index_pending(patient_id=summary.patient_id)
    sources, section_sources = summary_sources(patient_id=summary.patient_id, scope=access_scope(user=requester),
                                               whole_chart=summary.backend == "extractive",
                                               chart_facts=summary.backend == "vllm")
    if not sources:
        summary_fail(summary_id=summary.pk, reason="this chart has no indexed notes to summarise")
        return
    try:
        generation = _generate(summary, sources, section_sources)
    except GenerationError as exc:
        if exc.retryable:
            raise
        summary_fail(summary_id=summary.pk, reason=str(exc))
        return
    summary_store(summary=summary, generation=generation, sources=sources,
                  latency_ms=int((time.monotonic() - started) * 1000))


def summary_store(*, summary: Summary, generation: Generation, sources: dict[str, Hit], latency_ms: int) -> None:
    with transaction.atomic():
        locked = Summary.objects.select_for_update().get(pk=summary.pk)
        if locked.status != SummaryStatus.RUNNING:
            return  # another delivery finished it
        supported = 0
        # "Not documented." is the model declining to guess, not a claim: the section then
        # reads "Not documented in the retrieved notes."
        claims = [c for c in generation.claims if not (not c.citations and _NOT_DOCUMENTED.match(c.text))]
        checks = [claim_verify(claim=generated, sources=sources, patient_id=summary.patient_id) for generated in claims]
        shown = [g for g, check in zip(claims, checks) if check.verdict in (SUPPORTED, PARTLY)]
        # What the sources state (an allergy, a high-risk drug) that no shown claim carries.
        missing = omissions_find(shown=shown, sources=sources)
        missing_checks = [claim_verify(claim=g, sources=sources, patient_id=summary.patient_id) for g in missing]
        for ordinal, (generated, check, possibly_missing) in enumerate(
                [(g, c, False) for g, c in zip(claims, checks)] + [(g, c, True) for g, c in zip(missing, missing_checks)]):
            supported += check.verdict == SUPPORTED and not possibly_missing
            claim = Claim.objects.create(summary=summary, section=generated.section, ordinal=ordinal,
                                         text=generated.text, verdict=check.verdict, verdict_reason=check.reason[:300],
                                         possibly_missing=possibly_missing)
            Citation.objects.bulk_create(
                [Citation(claim=claim, **Citation.fields_of(c)) for c in check.citations if c.hit is not None])
        n_claims = len(claims)
        source_note_ids = list(dict.fromkeys(hit.note_id for hit in sources.values()))
        Summary.objects.filter(pk=summary.pk).update(
            status=SummaryStatus.DONE, finished_at=timezone.now(), n_claims=n_claims,
            source_note_ids=source_note_ids,
            supported_fraction=(supported / n_claims) if n_claims else None,
            model=generation.model[:200], prompt_version=generation.prompt_version,
            tokens_in=generation.tokens_in, tokens_out=generation.tokens_out, latency_ms=latency_ms,
        )
    logger.info("summary %s done: %d claims, %d supported, %d ms", summary.pk, n_claims, supported, latency_ms)
