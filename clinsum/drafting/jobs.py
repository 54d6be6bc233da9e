"""A nurse's draft as a grounded-generation job (clinsum/summaries/generation/jobs.py): the sections and
prompt of the draft's kind, stored as generated DraftSentences with their citations."""

from __future__ import annotations

from typing import Any

from clinsum.summaries.backends import GeneratedClaim
from clinsum.summaries.generation.jobs import Plan
from clinsum.summaries.verification import ClaimCheck
from retrieval.types import Hit

from .kinds import draft_kind
from .models import Draft, DraftCitation, DraftSentence, DraftStatus, Origin


class DraftJob:
    model = Draft
    requester = "author"
    stored: str = DraftStatus.READY
    call_owner = "draft_id"
    no_sources = "this chart has no indexed notes to draft from"

    def plan(self, job: Draft) -> Plan:
        kind = draft_kind(job.kind)
        return Plan(sections=kind.sections, prompt=kind.prompt)

    def rows_store(
        self, *, job: Draft, verified: list[tuple[GeneratedClaim, ClaimCheck]], sources: dict[str, Hit]
    ) -> dict[str, Any]:
        ordinals: dict[str, int] = {}
        for generated, check in verified:
            ordinal = ordinals.get(generated.section, 0)
            ordinals[generated.section] = ordinal + 1
            sentence = DraftSentence.objects.create(
                draft=job,
                section=generated.section,
                ordinal=ordinal,
                text=" ".join(generated.text.split()),
                origin=Origin.GENERATED,
                verdict=check.verdict,
                verdict_reason=check.reason[:300],
            )
            DraftCitation.objects.bulk_create(
                [
                    DraftCitation(sentence=sentence, **DraftCitation.fields_of(c))
                    for c in check.citations
                    if c.hit is not None
                ]
            )
        return {}


DRAFT_JOB = DraftJob()
