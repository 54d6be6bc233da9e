"""The verifier on hand-built sources: no database, no model."""

import pytest

from clinsum.summaries.backends import GeneratedCitation, GeneratedClaim
from clinsum.summaries.verification import PARTLY, SUPPORTED, UNSUPPORTED, claim_verify
from retrieval.types import Hit

NOTE = "MEDICATIONS: Furosemide 40 mg IV twice daily. Denies chest pain. Left lower extremity cellulitis."


def hit(text=NOTE, *, patient_id=1, char_start=100, chunk_id=7):
    return Hit(
        chunk_id=chunk_id,
        note_id=3,
        patient_id=patient_id,
        ordinal=0,
        char_start=char_start,
        char_end=char_start + len(text),
        section="medications",
        text=text,
        score=1.0,
    )


def verify(text, quote, *, source_id="S1", sources=None):
    claim = GeneratedClaim("medications", text, (GeneratedCitation(source_id, quote),))
    return claim_verify(claim=claim, sources=sources if sources is not None else {"S1": hit()}, patient_id=1)


def test_an_exact_quote_is_supported_and_mapped_to_note_offsets():
    check = verify("Furosemide 40 mg IV twice daily.", "Furosemide 40 mg IV twice daily.")
    assert check.verdict == SUPPORTED
    cite = check.citations[0]
    assert (cite.note_start, cite.note_end) == (100 + NOTE.index("Furosemide"), 100 + NOTE.index(" Denies"))


def test_a_quote_with_different_spacing_and_case_is_found():
    assert verify("Furosemide 40 mg IV", "furosemide   40 mg\nIV").verdict == SUPPORTED


def test_a_claim_that_collapsed_the_notes_whitespace_is_still_supported():
    """Found on the demo ward: "12:37    Unit: 4W" quoted with one space read as "37 Unit", a
    quantity the note (four spaces) did not have."""
    header = "Date of service: 11/16/2026 12:37    Unit: 4W\nPlan:   insulin 10\n units nightly."
    claim = " ".join(header.split())
    assert verify(claim, header, sources={"S1": hit(header)}).verdict == SUPPORTED
    assert verify(claim.replace("10 units", "100 units"), header, sources={"S1": hit(header)}).verdict == UNSUPPORTED


@pytest.mark.parametrize(
    ("claim", "quote", "reason"),
    [
        (
            "Furosemide 80 mg IV twice daily.",
            "Furosemide 40 mg IV twice daily.",
            "dose of furosemide differs: 80 mg vs 40 mg",
        ),
        ("Reports chest pain.", "Denies chest pain.", "negation differs"),
        ("Right lower extremity cellulitis.", "Left lower extremity cellulitis.", "side differs"),
        ("Metoprolol 40 mg.", "Metoprolol 40 mg daily.", "not in the cited note"),
    ],
)
def test_it_flags_claims_the_span_does_not_support(claim, quote, reason):
    check = verify(claim, quote)
    assert check.verdict == UNSUPPORTED and reason in check.reason


def test_an_unknown_source_id_is_unsupported():
    check = verify("Furosemide 40 mg.", "Furosemide 40 mg", source_id="S99")
    assert check.verdict == UNSUPPORTED and "not a source of this summary" in check.reason


def test_a_chunk_of_another_patient_is_unsupported():
    check = verify("Furosemide 40 mg.", "Furosemide 40 mg", sources={"S1": hit(patient_id=2)})
    assert check.verdict == UNSUPPORTED and "another patient" in check.reason


def test_one_good_and_one_bad_citation_is_partly_supported():
    claim = GeneratedClaim(
        "medications",
        "Furosemide 40 mg IV.",
        (
            GeneratedCitation("S1", "Furosemide 40 mg IV"),
            GeneratedCitation("S2", "no such words"),
        ),
    )
    check = claim_verify(claim=claim, sources={"S1": hit(), "S2": hit(chunk_id=8)}, patient_id=1)
    assert check.verdict == PARTLY


def test_a_claim_without_citations_is_unsupported():
    claim = GeneratedClaim("problems", "Has diabetes.", ())
    assert claim_verify(claim=claim, sources={}, patient_id=1).verdict == UNSUPPORTED


# --- Currency without a written stop (issue 18's planted errors) -------------------------------


def _dated(text, *, note_id, day, section="medications", note_type="progress", chunk_id=None):
    from datetime import UTC, datetime

    return Hit(
        chunk_id=chunk_id or note_id,
        note_id=note_id,
        patient_id=1,
        ordinal=0,
        char_start=0,
        char_end=len(text),
        section=section,
        text=text,
        score=1.0,
        note_type=note_type,
        authored_at=datetime(2026, 11, day, 8, 0, tzinfo=UTC),
    )


OLD_LIST = "- Heparin 5000 units SC q8h (started 11/12/2026)\n- Furosemide 40 mg IV BID (started 11/12/2026)"
NEW_LIST = "- Furosemide 40 mg PO daily (dose changed 11/16/2026)\n- Metoprolol tartrate 25 mg PO BID (home medication)"


def test_a_drug_left_off_a_newer_medication_list_is_out_of_date():
    sources = {"S1": _dated(OLD_LIST, note_id=1, day=13), "S2": _dated(NEW_LIST, note_id=2, day=17)}
    claim = GeneratedClaim(
        "medications", "Heparin 5000 units SC q8h.", (GeneratedCitation("S1", "Heparin 5000 units SC q8h"),)
    )
    check = claim_verify(claim=claim, sources=sources, patient_id=1)
    assert check.verdict == "out_of_date" and "not on a newer medication list" in check.reason
    assert [c.source_id for c in check.citations if c.newer] == ["S2"]


def test_a_nurses_meds_line_is_not_a_medication_list():
    """A nursing note naming two drugs given per MAR does not say heparin was stopped."""
    sources = {
        "S1": _dated(OLD_LIST, note_id=1, day=13),
        "S2": _dated(
            "Meds: Furosemide 40 mg PO and metoprolol 25 mg PO given per MAR.",
            note_id=2,
            day=17,
            section="meds",
            note_type="nursing",
        ),
    }
    claim = GeneratedClaim(
        "medications", "Heparin 5000 units SC q8h.", (GeneratedCitation("S1", "Heparin 5000 units SC q8h"),)
    )
    assert claim_verify(claim=claim, sources=sources, patient_id=1).verdict == SUPPORTED


def test_still_on_a_drug_needs_a_note_that_says_it_is_given_now():
    course = "Treated with ceftriaxone and azithromycin and defervesced by hospital day 3."
    sources = {"S1": _dated(course, note_id=1, day=13, section="hospital_course", note_type="discharge_summary")}
    still = GeneratedClaim(
        "answer",
        "Still on ceftriaxone and azithromycin and defervesced by hospital day 3.",
        (GeneratedCitation("S1", course),),
    )
    assert claim_verify(claim=still, sources=sources, patient_id=1).verdict == UNSUPPORTED
    told = GeneratedClaim(
        "answer", "Treated with ceftriaxone and azithromycin; defervesced by day 3.", (GeneratedCitation("S1", course),)
    )
    assert claim_verify(claim=told, sources=sources, patient_id=1).verdict == SUPPORTED
    listed = {"S1": _dated(OLD_LIST, note_id=1, day=13)}
    on_list = GeneratedClaim(
        "answer", "Still on heparin 5000 units SC q8h.", (GeneratedCitation("S1", "Heparin 5000 units SC q8h"),)
    )
    assert claim_verify(claim=on_list, sources=listed, patient_id=1).verdict == SUPPORTED
