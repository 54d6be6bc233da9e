"""The sections of a chart-review summary and what retrieval asks for each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SummarySection:
    key: str
    title: str
    query: str  # what the section is about, embedded for retrieval
    note_sections: tuple[str, ...]  # chunk sections (from the chunker) that usually hold it
    max_claims: int = 4
    # Facts that change over a stay (doses, the latest assessment of a system): per subject,
    # only the most recent note's statement is a candidate (extractive backend).
    latest_wins: bool = False
    # The chart reader (retrieval.clinical.chart) that fills this section in the extractive
    # backend from the whole chart; "" = sentences ranked against the query (nursing drafts).
    reader: str = ""
    # When the reader finds nothing (a chart of nursing notes only has no diagnoses section),
    # rank sentences of the retrieved chunks instead (nursing drafts); summaries say "Not
    # documented" rather than fill a section with whatever sentence is nearest.
    reader_fallback: bool = False


SUMMARY_SECTIONS: tuple[SummarySection, ...] = (
    SummarySection(
        "header",
        "At a glance",
        "age, sex, when and why admitted (the principal diagnosis), hospital day or discharge date",
        ("assessment_and_plan", "principal_diagnosis", "discharge_diagnosis"),
        max_claims=2,
        reader="header",
    ),
    SummarySection(
        "problems",
        "Active problems",
        "active problems, diagnoses, assessment and impression of the patient's conditions",
        (
            "assessment_and_plan",
            "assessment",
            "impression",
            "diagnosis",
            "history_of_present_illness",
            "past_medical_history",
            "discharge_diagnosis",
            "discharge_diagnoses",
        ),
        reader="problems",
    ),
    SummarySection(
        "medications",
        "Medications",
        "current medications with dose, route and frequency; medication changes",
        ("medications", "discharge_medications", "current_medications", "plan", "assessment_and_plan"),
        reader="medications",
    ),
    SummarySection(
        "allergies",
        "Allergies",
        "drug allergies and adverse reactions; no known drug allergies",
        ("allergies",),
        max_claims=2,
        reader="allergies",
    ),
    SummarySection(
        "recent_events",
        "Recent events",
        "recent events, procedures performed, lab results and clinical changes during the hospital course",
        ("hospital_course", "labs", "procedures", "assessment", "objective", "progress"),
        reader="recent_events",
    ),
    SummarySection(
        "follow_ups",
        "Pending follow-ups",
        "pending follow-up appointments, tests to repeat, results pending, plans after discharge",
        ("follow_up", "plan", "disposition", "discharge_instructions", "assessment_and_plan"),
        max_claims=3,
        reader="follow_ups",
    ),
)
