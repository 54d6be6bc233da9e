"""A chart-review summary as a grounded-generation job (clinsum/summaries/generation/jobs.py): the five
sections with the chart-review prompt, stored as Claims with Citations, plus what the sources
state that no shown claim carries (omissions)."""

from __future__ import annotations

from typing import Any

from clinsum.summaries.generation.jobs import Plan
from retrieval.types import Hit

from .backends import GeneratedClaim
from .models import Citation, Claim, Summary, SummaryStatus
from .omissions import omissions_find
from .prompts import CHART_REVIEW
from .sections import SUMMARY_SECTIONS
from .verification import PARTLY, SUPPORTED, ClaimCheck, claim_verify


class SummaryJob:
    model = Summary
    requester = "requested_by"
    stored: str = SummaryStatus.DONE
    call_owner = "summary_id"
    no_sources = "this chart has no indexed notes to summarise"

    def plan(self, job: Summary) -> Plan:
        return Plan(sections=SUMMARY_SECTIONS, prompt=CHART_REVIEW, chart_facts=True)

    def rows_store(
        self, *, job: Summary, verified: list[tuple[GeneratedClaim, ClaimCheck]], sources: dict[str, Hit]
    ) -> dict[str, Any]:
        shown = [claim for claim, check in verified if check.verdict in (SUPPORTED, PARTLY)]
        # What the sources state (an allergy, a high-risk drug) that no shown claim carries.
        missing = [
            (g, claim_verify(claim=g, sources=sources, patient_id=job.patient_id), True)
            for g in omissions_find(shown=shown, sources=sources)
        ]
        supported = 0
        for ordinal, (generated, check, possibly_missing) in enumerate([(g, c, False) for g, c in verified] + missing):
            supported += check.verdict == SUPPORTED and not possibly_missing
            claim = Claim.objects.create(
                summary=job,
                section=generated.section,
                ordinal=ordinal,
                text=generated.text,
                verdict=check.verdict,
                verdict_reason=check.reason[:300],
                possibly_missing=possibly_missing,
            )
            Citation.objects.bulk_create(
                [Citation(claim=claim, **Citation.fields_of(c)) for c in check.citations if c.hit is not None]
            )
        n_claims = len(verified)
        return {
            "n_claims": n_claims,
            "supported_fraction": (supported / n_claims) if n_claims else None,
            "source_note_ids": list(dict.fromkeys(hit.note_id for hit in sources.values())),
        }


SUMMARY_JOB = SummaryJob()
