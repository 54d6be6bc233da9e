"""Chunking keeps exact offsets, whole sentences and section boundaries. No Django, no database."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from retrieval.chunking import chunk_note, section_of, sentence_spans
from retrieval.types import ChunkSpan

ROOT = Path(__file__).resolve().parents[2]
# ../shared/data beside the checkout; a copy of the tree on another machine may carry it inside.
DATA_DIRS = (ROOT.parent / "shared" / "data", ROOT / "shared" / "data")
RECORD = re.compile(r"START_OF_RECORD=\d+\|\|\|\|\d+\|\|\|\|\n(.*?)\n\|\|\|\|END_OF_RECORD", re.S)


def shared_data(*parts: str) -> Path:
    """A path in the shared data; missing data fails in CI and skips locally."""
    for base in DATA_DIRS:
        path = base.joinpath(*parts)
        if path.exists():
            return path
    if os.environ.get("CI"):
        pytest.fail(f"shared data missing in CI: {DATA_DIRS[0].joinpath(*parts)}")
    pytest.skip(f"shared data not present: {DATA_DIRS[0].joinpath(*parts)}")


def invariant_errors(text: str, chunks: list[ChunkSpan], max_words: int) -> list[str]:
    """Every way these chunks break the chunking contract, as messages (empty when they hold)."""
    errors = []
    previous_end = 0
    for expected_ordinal, chunk in enumerate(chunks):
        where = f"chunk {chunk.ordinal} [{chunk.char_start}:{chunk.char_end}]"
        if chunk.ordinal != expected_ordinal:
            errors.append(f"{where}: ordinal should be {expected_ordinal}")
        if text[chunk.char_start : chunk.char_end] != chunk.text:
            errors.append(f"{where}: text is not the note's substring")
        if not chunk.text or chunk.text != chunk.text.strip():
            errors.append(f"{where}: empty or not trimmed")
        if len(chunk.text.split()) > max_words:
            errors.append(f"{where}: {len(chunk.text.split())} words > {max_words}")
        if chunk.char_start < previous_end:
            errors.append(f"{where}: overlaps or is out of order")
        elif text[previous_end : chunk.char_start].strip():
            errors.append(f"{where}: text before it is in no chunk")
        previous_end = max(previous_end, chunk.char_end)
    if text[previous_end:].strip():
        errors.append("text after the last chunk is in no chunk")
    return errors


def sections_of(text: str) -> list[str]:
    return [c.section for c in chunk_note(text)]


def test_it_keeps_offsets_exact_on_mtsamples():
    paths = sorted(shared_data("mtsamples").glob("*.txt"))
    assert len(paths) > 1000
    failures = {}
    for path in paths:
        text = path.read_text(errors="replace")
        for max_words in (180, 25):
            errors = invariant_errors(text, chunk_note(text, max_words=max_words), max_words)
            if errors:
                failures[f"{path.name} (max_words={max_words})"] = errors[:3]
    assert not failures, dict(list(failures.items())[:5])


def test_it_keeps_offsets_exact_on_nursing_notes():
    raw = shared_data("nursing-notes", "nursing-notes.txt").read_text(errors="replace")
    notes = RECORD.findall(raw)
    assert len(notes) == raw.count("START_OF_RECORD=") > 2000
    failures = {}
    for index, text in enumerate(notes):
        for max_words in (180, 25):
            errors = invariant_errors(text, chunk_note(text, max_words=max_words), max_words)
            if errors:
                failures[f"note {index} (max_words={max_words})"] = errors[:3]
    assert not failures, dict(list(failures.items())[:5])


def test_it_finds_sections_in_mtsamples():
    text = shared_data("mtsamples", "abscess-with-cellulitis-discharge-summary.txt").read_text()
    sections = set(sections_of(text))
    assert {"history_of_present_illness", "medications", "allergies", "physical_exam"} <= sections


def test_it_recognises_clinical_headers():
    text = (
        "Seen on the ward today.\n\n"
        "HPI: 67M with chest pain since this morning.\n"
        "PMH: Hypertension. Diabetes.\n"
        "MEDS: Metoprolol 25 mg daily.\n"
        "  ALLERGIES: Penicillin.\n"
        "PHYSICAL EXAM: Lungs clear. HEENT: Normal.\n"
        "LABS: Troponin negative.\n"
        "HOSPITAL COURSE: Uneventful.\n"
        "DISCHARGE MEDICATIONS: Aspirin 81 mg.\n"
        "FOLLOW-UP: Cardiology in 2 weeks.\n"
        "A/P: Chest pain, likely musculoskeletal.\n"
        "IMPRESSION: Stable.\n"
    )
    assert sections_of(text) == [
        "",
        "history_of_present_illness",
        "past_medical_history",
        "medications",
        "allergies",
        "physical_exam",
        "heent",
        "labs",
        "hospital_course",
        "discharge_medications",
        "follow_up",
        "assessment_and_plan",
        "impression",
    ]


def test_it_recognises_markdown_headers():
    text = (
        "1987-11-19\n\n# Chief Complaint\n- Cough\n\n"
        "# Medications\nacetaminophen 325 mg oral tablet\n\n## Allergies\nNone."
    )
    assert sections_of(text) == ["", "chief_complaint", "medications", "allergies"]


def test_it_recognises_nursing_markers():
    text = (
        "S: Pt states feeling better.\nO: Afebrile, HR 80s.\nNeuro: A&Ox3.\ncv: SR, no ectopy.\n"
        "Resp: LS clear.\nGI: Tolerating diet.\nSkin: Intact.\nSocial: Wife visited.\n"
        "A: Improving.\np: Transfer to floor."
    )
    assert sections_of(text) == [
        "subjective",
        "objective",
        "neuro",
        "cardiovascular",
        "respiratory",
        "gastrointestinal",
        "skin",
        "social",
        "assessment",
        "plan",
    ]


def test_it_recognises_nursing_markers_written_with_dashes():
    text = "cardiac--hr 70's av paced\n\ngi- abd obese, firm\nResp - LS clear\npulm= diminished\nA-fib persists."
    assert sections_of(text) == ["cardiovascular", "gastrointestinal", "respiratory", "respiratory"]


def test_it_recognises_soap_markers_after_a_sentence_ends():
    text = "O: BUN 50; CR 2.1; K 3.9; A: RENAL INSUFFICIENCY. P: REPEAT LABS."
    assert sections_of(text) == ["objective", "assessment", "plan"]


def test_it_ignores_colons_that_are_not_headers():
    text = "ANA 1:40 and the visit at 10:30 went fine. Patient is Vitamin D deficient: on supplements."
    assert sections_of(text) == [""]


def test_it_maps_header_synonyms():
    assert section_of("HPI:") == "history_of_present_illness"
    assert section_of("HISTORY OF PRESENT ILLNESS:") == "history_of_present_illness"
    assert section_of("PMH:") == "past_medical_history"
    assert section_of("MEDS:") == "medications"
    assert section_of("# Medications") == "medications"
    assert section_of("## Allergies") == "allergies"
    assert section_of("A/P:") == "assessment_and_plan"
    assert section_of("ASSESSMENT & PLAN:") == "assessment_and_plan"
    assert section_of("ASSESSMENT AND PLAN:") == "assessment_and_plan"
    assert section_of("A:") == "assessment"
    assert section_of("PHYSICAL EXAMINATION:") == "physical_exam"
    assert section_of("LABORATORY DATA:") == "labs"
    assert section_of("DISCHARGE MEDICATIONS:") == "discharge_medications"
    assert section_of("FOLLOW-UP:") == "follow_up"
    assert section_of("Neuro:") == "neuro"
    assert section_of("CV:") == "cardiovascular"
    assert section_of("Resp:") == "respiratory"


def test_it_puts_text_before_the_first_header_in_the_preamble():
    chunks = chunk_note("Patient seen and examined.\nPLAN: Discharge home.")
    assert [(c.section, c.text) for c in chunks] == [
        ("", "Patient seen and examined."),
        ("plan", "PLAN: Discharge home."),
    ]


def test_it_includes_the_header_in_its_section_chunk():
    text = "HISTORY OF PRESENT ILLNESS:\nThe patient has a cough.\n\n# Medications\nlisinopril 10 mg"
    chunks = chunk_note(text)
    assert [c.text for c in chunks] == [
        "HISTORY OF PRESENT ILLNESS:\nThe patient has a cough.",
        "# Medications\nlisinopril 10 mg",
    ]


def test_it_folds_a_header_with_nothing_under_it_into_the_next_section():
    text = "# Assessment and Plan\n\n\n## Plan\n\nThe following procedures were conducted:\n- hearing exam"
    chunks = chunk_note(text)
    assert len(chunks) == 1
    assert chunks[0].section == "plan"
    assert chunks[0].text == text


def test_it_never_crosses_a_section_boundary():
    text = "HPI: " + "Cough for two days. " * 5 + "\nPLAN: " + "Rest and fluids. " * 5
    chunks = chunk_note(text, max_words=1000)
    assert [c.section for c in chunks] == ["history_of_present_illness", "plan"]
    assert chunks[0].text.endswith("Cough for two days.")
    assert chunks[1].text.startswith("PLAN:")


def test_it_does_not_split_inside_doses_or_titles():
    text = "Dr. Smith started metoprolol 2.5 mg b.i.d. with meals. He tolerated it well."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Dr. Smith started metoprolol 2.5 mg b.i.d. with meals.",
        "He tolerated it well.",
    ]


def test_it_splits_sentences_after_units_and_list_items():
    text = "Give aspirin 81 mg. Then recheck.\n1. Hypertension.\n2. Diabetes.\n- lasix 40 mg\n- potassium"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Give aspirin 81 mg.",
        "Then recheck.",
        "1. Hypertension.",
        "2. Diabetes.",
        "- lasix 40 mg",
        "- potassium",
    ]


def test_it_keeps_sentence_spans_offsets_exact():
    text = "  PLAN:  Start 2.5 mg.  Recheck in 1 week!  Call Dr. Jones?   "
    spans = sentence_spans(text, 2, len(text) - 1)
    assert [text[a:b] for a, b in spans] == ["PLAN:  Start 2.5 mg.", "Recheck in 1 week!", "Call Dr. Jones?"]
    assert all(text[a:b] == text[a:b].strip() for a, b in spans)
    assert sentence_spans("   ") == []


def test_it_packs_sentences_up_to_max_words():
    text = "One two three. Four five six. Seven eight nine. Ten."
    chunks = chunk_note(text, max_words=6)
    assert [c.text for c in chunks] == ["One two three. Four five six.", "Seven eight nine. Ten."]


def test_it_splits_an_overlong_sentence_on_whitespace():
    text = " ".join(f"w{i}" for i in range(25))
    chunks = chunk_note(text, max_words=10)
    assert [len(c.text.split()) for c in chunks] == [10, 10, 5]
    assert invariant_errors(text, chunks, 10) == []


def test_it_returns_nothing_for_empty_text():
    assert chunk_note("") == []
    assert chunk_note("  \n\t \n") == []


def test_it_keeps_offsets_exact_on_unicode():
    text = (
        "HPI: Zoë Müller, 72 — née Łukasiewicz — reports café-au-lait spots…\u00a0Señora Ñúñez visits.\n"
        "MEDICATIONS: Amoxicillin 500 mg — 3× daily 💊. Naïve to β-blockers.\n"
    )
    chunks = chunk_note(text, max_words=6)
    assert invariant_errors(text, chunks, 6) == []
    assert {c.section for c in chunks} == {"history_of_present_illness", "medications"}
    assert any("—" in c.text for c in chunks)


def test_it_chunks_a_200k_note():
    """Correctness only; the speed of these 200k texts is `python -m bench chunking`."""
    paragraph = (
        "HISTORY OF PRESENT ILLNESS: Dr. Smith saw the patient, who takes metoprolol 2.5 mg b.i.d. "
        "and reports chest pain — worse at night.\n- lasix 40 mg\n- potassium 20 mEq\n\n"
        "A: Stable. P: Continue current plan and recheck labs in 2 weeks.\n"
    )
    text = (paragraph * (200_000 // len(paragraph) + 1))[:200_000]
    chunks = chunk_note(text)
    assert invariant_errors(text, chunks, 180) == []


def test_it_chunks_a_200k_note_without_sentences():
    text = ("word " * 40_000)[:200_000]
    chunks = chunk_note(text)
    assert invariant_errors(text, chunks, 180) == []


@pytest.mark.parametrize(
    "text",
    ["." * 200_000, ". " * 100_000, "\n" * 200_000, "AB" + " " * 200_000 + "x"],
    ids=["dots", "dot-space", "newlines", "long-blank-run"],
)
def test_it_handles_degenerate_200k_notes(text):
    chunks = chunk_note(text)
    assert invariant_errors(text, chunks, 180) == []
