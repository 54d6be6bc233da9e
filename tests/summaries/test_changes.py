"""summaries/changes.py: claims matched by section and subject between two summaries."""

from dataclasses import dataclass

from clinsum.summaries.changes import claim_subject, claims_compare

SECTIONS = [("problems", "Active problems"), ("medications", "Medications"), ("allergies", "Allergies")]


@dataclass
class C:
    section: str
    text: str


def test_a_dose_change_is_one_claim_changed_and_a_brand_name_is_its_generic():
    older = [C("medications", "Furosemide 40 mg IV twice daily."), C("medications", "Metoprolol 25 mg daily.")]
    newer = [C("medications", "Lasix 80 mg IV twice daily."), C("medications", "metoprolol 25 mg daily")]
    (meds,) = claims_compare(older, newer, SECTIONS)
    assert meds.key == "medications" and not meds.added and not meds.removed  # metoprolol: unchanged
    assert [(o.text, n.text) for o, n in meds.changed] == [
        ("Furosemide 40 mg IV twice daily.", "Lasix 80 mg IV twice daily.")
    ]


def test_new_and_resolved_claims_in_their_sections_and_unchanged_sections_left_out():
    older = [C("problems", "Acute kidney injury."), C("allergies", "Penicillin (rash).")]
    newer = [C("problems", "Community-acquired pneumonia."), C("allergies", "Penicillin (rash).")]
    (problems,) = claims_compare(older, newer, SECTIONS)
    assert [c.text for c in problems.added] == ["Community-acquired pneumonia."]
    assert [c.text for c in problems.removed] == ["Acute kidney injury."]
    assert not problems.changed


def test_numbers_and_units_do_not_make_a_new_subject():
    assert claim_subject("problems", "Creatinine 2.1 mg/dL on day 2") == claim_subject(
        "problems", "Creatinine 1.4 mg/dL on day 4"
    )
    assert claim_subject("medications", "Protonix 40 mg PO daily") == "drug:pantoprazole"


def test_nothing_changed_is_an_empty_list():
    claims = [C("problems", "Heart failure.")]
    assert claims_compare(claims, [C("problems", "heart  failure")], SECTIONS) == []
