"""What the generator produces: the ward's patients and notes, and the ground truth
(``PatientFacts``) each patient's notes were written from.

Plain records, no Django: ClinSum turns them into its ingest records (clinsum/demo_ingest.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple


class DoseStep(NamedTuple):
    """One dose in effect from ``at`` until the next step (or the course's end)."""

    at: datetime
    dose: str  # "<number> <unit>", e.g. "40 mg", "8 mcg/min"
    frequency: str  # "BID", "daily", "continuous", ...
    route: str  # "IV", "PO", "SC", ...


@dataclass(frozen=True)
class MedicationCourse:
    drug: str
    doses: list[DoseStep]  # chronological; more than one step means a dose change
    stopped_at: datetime | None = None  # None: still active at the end of the record
    home: bool = False  # a home medication continued in hospital

    @property
    def route(self) -> str:
        """Route of the latest step (a change can move a drug from IV to PO)."""
        return self.doses[-1].route

    @property
    def started_at(self) -> datetime:
        return self.doses[0].at

    def step_at(self, when: datetime) -> DoseStep | None:
        """The dose in effect at ``when``, or None if the drug is not active then."""
        if when < self.started_at or (self.stopped_at is not None and when >= self.stopped_at):
            return None
        return [step for step in self.doses if step.at <= when][-1]

    def sig_at(self, when: datetime) -> str | None:
        step = self.step_at(when)
        return None if step is None else sig(self.drug, step)


class Allergy(NamedTuple):
    substance: str
    reaction: str


class LabResult(NamedTuple):
    at: datetime  # collection time
    name: str
    value: str  # formatted exactly as notes quote it, e.g. "2.1"
    unit: str  # may be empty (INR, pH)


class Procedure(NamedTuple):
    at: datetime
    name: str


@dataclass(frozen=True)
class PatientFacts:
    """The ground truth a patient's notes were written from."""

    scenario: str
    problems: list[str]  # principal diagnosis first
    medications: list[MedicationCourse]
    allergies: list[Allergy]  # empty: no known drug allergies
    labs: list[LabResult]  # chronological
    procedures: list[Procedure]  # chronological, all already done
    follow_ups: list[str]  # pending at discharge (or planned, if still admitted)
    admitted_at: datetime
    discharged_at: datetime | None  # None: still admitted

    def lab_at(self, name: str, when: datetime) -> LabResult | None:
        """The latest result of ``name`` collected at or before ``when``."""
        found = [lab for lab in self.labs if lab.name == name and lab.at <= when]
        return found[-1] if found else None


@dataclass(frozen=True)
class DemoPatient:
    mrn: str  # "DEMO-" and six digits
    family_name: str
    given_name: str
    birth_date: date
    sex: str  # female / male
    unit: str


@dataclass(frozen=True)
class DemoNote:
    mrn: str
    note_type: str  # history_physical / progress / nursing / consult / discharge_summary
    authored_at: datetime  # aware, in the hospital's zone: the instant of the text's Date of service
    text: str
    author: str  # "Celeste Varga, MD"
    author_role: str  # "Attending physician", "RN", ...
    title: str
    source: str  # "demo:seed=7"


@dataclass(frozen=True)
class DemoWard:
    patients: list[DemoPatient]
    notes: list[DemoNote]  # all notes of all patients, sorted by authored_at
    facts: dict[str, PatientFacts]  # by MRN


def sig(drug: str, step: DoseStep) -> str:
    """How notes write a medication order: 'furosemide 40 mg IV BID'."""
    return f"{drug} {step.dose} {step.route} {step.frequency}"


def lab_text(lab: LabResult) -> str:
    """How notes quote a result: 'Creatinine 2.1 mg/dL', 'INR 1.2', 'Hemoglobin A1c 9.1%'."""
    if not lab.unit:
        return f"{lab.name} {lab.value}"
    if lab.unit == "%":
        return f"{lab.name} {lab.value}%"
    return f"{lab.name} {lab.value} {lab.unit}"
