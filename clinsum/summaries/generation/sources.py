"""A job's sources: this patient's chunks, numbered S1, S2, ... once per job."""

from __future__ import annotations

from django.db import connection

from clinsum.charts.indexing import embedder_get, notes_index
from clinsum.charts.models import EmbeddingStatus, Note
from clinsum.summaries.sections import SUMMARY_SECTIONS, SummarySection
from retrieval.clinical.chart import chart_read
from retrieval.search import patient_chunks, patient_vector_search
from retrieval.types import AccessScope, Hit

CHUNKS_PER_SECTION = 12
CHART_CHUNKS = 5000  # the whole chart for the extractive backend (the largest Synthea chart has about 2,000)


def patient_index_pending(*, patient_id: int) -> None:
    """Index what the embed queue has not reached yet, so no note is missed. A note whose
    embedding failed (it crashed the embedder every time) is left out: indexing it here would
    fail the summary too; the chart says it is not indexed."""
    pending = list(
        Note.objects.filter(patient_id=patient_id, embedding_status=EmbeddingStatus.PENDING).values_list(
            "pk", flat=True
        )
    )
    if pending:
        notes_index(note_ids=pending, only_pending=True)


def sources_retrieve(
    *,
    patient_id: int,
    scope: AccessScope,
    sections: tuple[SummarySection, ...] = SUMMARY_SECTIONS,
    whole_chart: bool = False,
    chart_facts: bool = False,
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
            chart = {
                str(hit.chunk_id): hit
                for hit in reversed(patient_chunks(cursor, patient_id=patient_id, scope=scope, limit=CHART_CHUNKS))
            }
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
            for hit in patient_vector_search(
                cursor, patient_id=patient_id, query_vector=vector, k=CHUNKS_PER_SECTION, scope=scope
            ):
                if hit.chunk_id not in by_chunk:
                    by_chunk[hit.chunk_id] = f"S{len(by_chunk) + 1}"
                    sources[by_chunk[hit.chunk_id]] = hit
                ids.append(by_chunk[hit.chunk_id])
            section_sources[section.key] = [
                *section_sources.get(section.key, []),
                *(i for i in ids if i not in section_sources.get(section.key, [])),
            ]
    return sources, section_sources
