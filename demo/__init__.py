"""A synthetic hospital ward for demos, tests and benchmarks. No Django: ClinSum loads it
through clinsum/demo_ingest.py (``manage.py seed_demo``).

Everything here is invented: patient and clinician names are random combinations of
name lists, MRNs carry a DEMO- prefix, and the clinical stories are written from
templates. No real person's data is used.

The generator is pure and deterministic: the same arguments give the same ward, because
all randomness comes from ``random.Random`` instances seeded from ``seed`` (never the
global generator, never the clock). Every note is rendered from one per-patient set of
ground-truth facts (``PatientFacts``), so doses, lab values, allergies and procedures
quoted in a note are exactly what the facts say at the note's time. That makes the ward
usable as ground truth for checking summaries.

Modules: ``facts`` (what the generator produces), ``scenarios`` and ``tables`` (the data it
writes from), ``ward`` (the generator), ``admission`` (one patient's stay and facts),
``chart`` (one admission's state and lookups), ``notes`` and ``sections`` (the note writers),
``staff``, ``text``.
"""

from demo.facts import (
    Allergy,
    DemoNote,
    DemoPatient,
    DemoWard,
    DoseStep,
    LabResult,
    MedicationCourse,
    PatientFacts,
    Procedure,
    lab_text,
    sig,
)
from demo.scenarios import SCENARIOS, Scenario
from demo.ward import DEFAULT_NOW, DEFAULT_TIME_ZONE, demo_ward_generate

__all__ = (
    "DEFAULT_NOW",
    "DEFAULT_TIME_ZONE",
    "SCENARIOS",
    "Allergy",
    "DemoNote",
    "DemoPatient",
    "DemoWard",
    "DoseStep",
    "LabResult",
    "MedicationCourse",
    "PatientFacts",
    "Procedure",
    "Scenario",
    "demo_ward_generate",
    "lab_text",
    "sig",
)
