"""The extractive backend on hand-built sources, with the real embedding model."""

from datetime import UTC, datetime

import pytest

from clinsum.charts.indexing import embedder_get
from clinsum.summaries.backends.extractive import claim_text, extractive_generate
from clinsum.summaries.sections import SUMMARY_SECTIONS
from clinsum.summaries.verification import SUPPORTED, claim_verify
from retrieval.types import Hit


def hit(chunk_id, text, *, day, section="medications"):
    return Hit(
        chunk_id=chunk_id,
        note_id=chunk_id,
        patient_id=1,
        ordinal=0,
        char_start=0,
        char_end=len(text),
        section=section,
        text=text,
        score=1.0,
        authored_at=datetime(2026, 11, day, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def generated():
    sources = {
        "S1": hit(
            1, "MEDICATIONS:\n- furosemide 40 mg IV BID (started 11/02/2026)\n- metoprolol 25 mg PO daily", day=2
        ),
        "S2": hit(
            2, "MEDICATIONS:\n- furosemide 20 mg PO daily (dose changed 11/06/2026)\n- metoprolol 25 mg PO daily", day=9
        ),
        "S3": hit(3, "Date of service: 11/09/2026 08:00 Unit: 4W\nPROGRESS NOTE - Hospital Day 8", day=9, section=""),
        "S4": hit(4, "ALLERGIES: Penicillin (hives). Penicillin (hives).", day=9, section="allergies"),
    }
    section_sources = {s.key: list(sources) for s in SUMMARY_SECTIONS}
    return sources, extractive_generate(
        sections=SUMMARY_SECTIONS, section_sources=section_sources, sources=sources, embedder=embedder_get()
    )


def test_the_most_recent_dose_wins(generated):
    _, generation = generated
    meds = [c.text for c in generation.claims if c.section == "medications"]
    assert any("furosemide 20 mg PO daily" in m for m in meds)
    assert not any("furosemide 40 mg" in m for m in meds)


def test_note_furniture_is_never_a_claim(generated):
    _, generation = generated
    assert not any("Date of service" in c.text or "Hospital Day" in c.text for c in generation.claims)


def test_no_claim_is_repeated(generated):
    _, generation = generated
    texts = [c.text for c in generation.claims]
    assert len(texts) == len(set(texts))


def test_every_claim_verifies_against_its_quote(generated):
    sources, generation = generated
    for claim in generation.claims:
        assert claim_verify(claim=claim, sources=sources, patient_id=1).verdict == SUPPORTED, claim.text


def test_claim_text_drops_list_markers_and_labels():
    assert claim_text("- furosemide 20 mg  PO daily") == "furosemide 20 mg PO daily"
    assert claim_text("SUBJECTIVE: Breathing much improved today.") == "Breathing much improved today."
