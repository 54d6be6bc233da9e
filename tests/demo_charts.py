"""Demo-ward charts with their ground truth, for tests of what a summary or draft says.

The ward generator (the top-level demo package) writes every note from known facts: the principal
diagnosis, each medication course with its doses and when it stopped, allergies, follow-ups.
Tests check ClinSum's reading of the notes against those facts, which it did not write.
"""

from __future__ import annotations

from functools import lru_cache

from clinsum.demo_ingest import demo_records_ingest
from demo import DemoWard, PatientFacts, demo_ward_generate

SEED, PATIENTS = 3, 20


@lru_cache(maxsize=1)
def ward() -> DemoWard:
    return demo_ward_generate(seed=SEED, n_patients=PATIENTS)


def stopped_before_discharge(facts: PatientFacts) -> list[str]:
    """Drugs given during the stay and stopped by its end."""
    return [m.drug for m in facts.medications if m.stopped_at is not None]


def current_drugs(facts: PatientFacts) -> list[str]:
    return [m.drug for m in facts.medications if m.stopped_at is None]


def discharged_patient_with_a_stopped_drug() -> tuple[str, PatientFacts]:
    """The first discharged patient of the ward with a drug stopped before discharge."""
    for patient in ward().patients:
        facts = ward().facts[patient.mrn]
        if facts.discharged_at and stopped_before_discharge(facts):
            return patient.mrn, facts
    raise LookupError("the demo ward has no discharged patient with a stopped drug")


def demo_chart_load(mrn: str, *, enqueue: bool):
    """Store one demo patient and all their notes; returns the Patient."""
    from clinsum.charts.models import Patient

    record = next(p for p in ward().patients if p.mrn == mrn)
    notes = [n for n in ward().notes if n.mrn == mrn]
    demo_records_ingest(patients=[record], notes=notes, enqueue=enqueue)
    return Patient.objects.get(mrn=mrn)
