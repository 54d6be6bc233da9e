"""The kinds of nursing documentation ClinSum drafts: each is a template of sections, each
section with its own retrieval query, and a prompt that frames the task for the LLM.

Sections reuse SummarySection, so retrieval (generation.sources), both backends and the verifier
work on drafts exactly as on summaries.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinsum.charts.models import NoteType
from clinsum.summaries.prompts import PromptSpec, system_rules_compose
from clinsum.summaries.sections import SummarySection

READING_GRADE_TARGET = 8  # discharge instructions: US school grade 8 or lower (6-8 recommended)


@dataclass(frozen=True)
class DraftKind:
    key: str
    title: str
    phrase: str  # the title in a sentence, with its article: "an SBAR shift handoff", "discharge instructions"
    note_type: str  # the Note a signed draft becomes
    sections: tuple[SummarySection, ...]
    prompt: PromptSpec
    patient_facing: bool = False  # plain language, reading level and glossary checks, printable
    reading_grade_target: int | None = None


_NURSING_ROLE = (
    "You draft nursing documentation for a registered nurse from excerpts of one patient's notes. "
    "The nurse reviews, edits and signs the draft; nothing you write enters the record unsigned."
)

SBAR = DraftKind(
    key="sbar_handoff",
    title="SBAR shift handoff",
    phrase="an SBAR shift handoff",
    note_type=NoteType.NURSING,
    sections=(
        SummarySection(
            "situation",
            "Situation",
            "why the patient is in hospital now, current condition and the main active problem",
            ("chief_complaint", "history_of_present_illness", "assessment", "impression", "subjective"),
            max_claims=3,
            reader="header",
            reader_fallback=True,
        ),
        SummarySection(
            "background",
            "Background",
            "past medical history, relevant history, allergies, code status and recent procedures",
            ("past_medical_history", "history", "allergies", "procedures", "hospital_course"),
            max_claims=4,
            reader="problems,allergies",
            reader_fallback=True,
        ),
        SummarySection(
            "assessment",
            "Assessment",
            "latest nursing assessment: vital signs, neuro, cardiovascular, respiratory, GI, GU, skin, "
            "pain, lines and drains, labs",
            ("objective", "assessment", "review_of_systems", "physical_exam", "vital_signs", "labs"),
            max_claims=6,
            latest_wins=True,
        ),
        SummarySection(
            "recommendation",
            "Recommendation",
            "plan for the next shift: what to monitor, pending tests and results, medications due, safety concerns",
            ("plan", "assessment_and_plan", "follow_up", "disposition"),
            max_claims=4,
            latest_wins=True,
            reader="follow_ups",
            reader_fallback=True,
        ),
    ),
    prompt=PromptSpec(
        version="nursing-sbar-v1",
        schema_name="nursing_sbar_handoff",
        system_rules=system_rules_compose(
            role=_NURSING_ROLE,
            style="Write each claim as one short sentence in the terse, factual style of a nursing handoff.",
        ),
        task_line="Draft an SBAR shift handoff for this patient in the sections below. "
        "Prefer the most recent information.",
    ),
)

PROGRESS = DraftKind(
    key="nursing_progress",
    title="Nursing progress note",
    phrase="a nursing progress note",
    note_type=NoteType.NURSING,
    sections=(
        SummarySection(
            "events",
            "Events this shift",
            "events during the shift: changes in condition, procedures, transfers, falls, notifications",
            ("hospital_course", "progress", "subjective", "assessment"),
            max_claims=4,
        ),
        SummarySection(
            "systems",
            "Assessment by system",
            "neuro, cardiovascular, respiratory, GI, GU, skin and pain assessment findings, vital signs",
            ("objective", "review_of_systems", "physical_exam", "vital_signs", "assessment"),
            max_claims=6,
            latest_wins=True,
        ),
        SummarySection(
            "interventions",
            "Interventions and response",
            "medications given, treatments, fluids, oxygen and the patient's response",
            ("medications", "plan", "objective", "hospital_course"),
            max_claims=4,
            latest_wins=True,
        ),
        SummarySection(
            "plan",
            "Plan",
            "nursing plan: monitoring, pending labs, goals for the next shift",
            ("plan", "assessment_and_plan", "follow_up"),
            max_claims=3,
            latest_wins=True,
        ),
    ),
    prompt=PromptSpec(
        version="nursing-progress-v1",
        schema_name="nursing_progress_note",
        system_rules=system_rules_compose(
            role=_NURSING_ROLE,
            style="Write each claim as one short factual sentence, as a nurse charts a progress note.",
        ),
        task_line="Draft a nursing progress note for this patient in the sections below. "
        "Prefer the most recent information.",
    ),
)

DISCHARGE = DraftKind(
    key="discharge_instructions",
    title="Discharge instructions",
    phrase="discharge instructions",
    note_type=NoteType.DISCHARGE_INSTRUCTIONS,
    sections=(
        SummarySection(
            "why",
            "Why you were in the hospital",
            "the diagnosis and reason for this hospital stay",
            ("discharge_diagnosis", "discharge_diagnoses", "diagnosis", "assessment", "impression", "chief_complaint"),
            max_claims=3,
            reader="principal",
            reader_fallback=True,
        ),
        SummarySection(
            "medicines",
            "Your medicines",
            "medicines to take at home with dose and how often; medicines to stop or change",
            ("discharge_medications", "medications", "current_medications", "plan"),
            max_claims=6,
            latest_wins=True,
            reader="medications",
            reader_fallback=True,
        ),
        SummarySection(
            "activity",
            "Activity and diet",
            "activity limits, diet, wound care, showering and driving after discharge",
            ("discharge_instructions", "activity", "diet", "plan", "disposition"),
            max_claims=4,
        ),
        SummarySection(
            "warning_signs",
            "When to get help",
            "warning signs and symptoms: when to call the doctor or come back to the emergency department",
            ("discharge_instructions", "plan", "follow_up"),
            max_claims=4,
        ),
        SummarySection(
            "follow_up",
            "Follow-up appointments",
            "follow-up appointments, tests after discharge and who to see",
            ("follow_up", "plan", "disposition", "discharge_instructions"),
            max_claims=3,
            reader="follow_ups",
            reader_fallback=True,
        ),
    ),
    prompt=PromptSpec(
        version="discharge-plain-v1",
        schema_name="discharge_instructions",
        system_rules=system_rules_compose(
            role=(
                "You draft discharge instructions that a nurse gives to a patient, from excerpts of the "
                "patient's notes. The nurse reviews, edits and signs them; nothing you write reaches the "
                "patient unsigned."
            ),
            style=(
                f'Write each claim as one short sentence to the patient ("you"), in plain language a '
                f"reader at school grade {READING_GRADE_TARGET} or lower understands. Do not use "
                "abbreviations or medical jargon; where a medical word is needed, explain it in everyday "
                "words in the same sentence. The quote stays verbatim from the source."
            ),
        ),
        task_line="Draft discharge instructions for this patient in the sections below.",
    ),
    patient_facing=True,
    reading_grade_target=READING_GRADE_TARGET,
)

DRAFT_KINDS: dict[str, DraftKind] = {kind.key: kind for kind in (SBAR, PROGRESS, DISCHARGE)}


def draft_kind(key: str) -> DraftKind:
    try:
        return DRAFT_KINDS[key]
    except KeyError:
        raise ValueError(f"unknown draft kind {key!r}") from None
