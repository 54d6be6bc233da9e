"""The vLLM backend is given the chart reader's facts as the first sources of their sections:
the discharge medication list for Medications, the allergy statements for Allergies, the
diagnoses for Active problems; not only the chunks nearest to a query."""

from __future__ import annotations

import pytest

from clinsum.charts.indexing import notes_index
from clinsum.charts.models import Note
from clinsum.summaries.models import Summary, SummaryStatus
from clinsum.summaries.services import summary_run
from tests.demo_charts import current_drugs, demo_chart_load, discharged_patient_with_a_stopped_drug
from tests.llm_stub import reply
from tests.summaries.test_vllm_backend import _SECTION, cite_each_source, prompt_sources, user_message

pytestmark = pytest.mark.django_db


def test_the_model_reads_the_reconciled_facts_first(vllm_backend, clinician):
    mrn, facts = discharged_patient_with_a_stopped_drug()
    patient = demo_chart_load(mrn, enqueue=False)
    notes_index(note_ids=list(Note.objects.filter(patient=patient).values_list("pk", flat=True)))
    vllm_backend.script(*[reply(cite_each_source)] * 6)
    summary = Summary.objects.create(
        patient=patient, requested_by=clinician, backend="vllm", model=vllm_backend.model, fingerprint="t"
    )
    summary_run(summary_id=summary.pk)
    summary.refresh_from_db()
    assert summary.status == SummaryStatus.DONE, summary.error

    request = vllm_backend.requests[0]
    texts = prompt_sources(request)
    listed = {m["key"]: m["ids"].split(", ") for m in _SECTION.finditer(user_message(request))}
    first_medication_source = texts[listed["medications"][0]]
    assert "DISCHARGE MEDICATIONS" in first_medication_source or all(
        drug in first_medication_source.lower() for drug in current_drugs(facts)[:1]
    )
    allergy_text = " ".join(texts[i] for i in listed["allergies"]).lower()
    for allergy in facts.allergies:
        assert allergy.substance.lower() in allergy_text
    assert facts.problems[0] in texts[listed["problems"][0]]
