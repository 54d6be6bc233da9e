"""The plain-language checks of patient-facing drafts: jargon found and explained, and the
reading grade, on real nursing-note text and on plain sentences."""

import pytest

from clinsum.drafting.plain_language import jargon_find, jargon_unexplained, reading_grade, syllables
from tests.conftest import shared_data


def terms(text: str) -> list[str]:
    return [t.term for t in jargon_find(text)]


def test_clinical_abbreviations_are_found_once_each_in_order():
    text = "hpi: pt admitted c/o sob, r/o chf. s/p MI 1992. nkda. 1mg versed ivp. dc'd methadone. Take PO BID; po bid."
    assert terms(text) == ["hpi", "pt", "c/o", "sob", "r/o", "chf", "s/p", "MI", "nkda", "ivp", "dc'd", "PO", "BID"]


@pytest.mark.parametrize(
    "text",
    [
        "The team is here to help.",  # "te", "am", "is": no abbreviation inside words
        "We will go w/o the walker.",  # w/o is not w/
        "Call me if you feel worse. Is it on your list?",  # "me", "on", "is"
        "Pete said his mission went well.",  # "pe", "mi" inside words
    ],
)
def test_ordinary_words_are_not_jargon(text):
    assert terms(text) == []


def test_lower_case_words_that_are_also_english_count_only_in_capitals():
    assert terms("Come back to the ER.") == ["ER"] and terms("Were you in the er?") == []
    assert terms("Your CT scan was clear.") == ["CT"] and terms("Cut it into 2 ct packs.") == []


def test_a_term_explained_in_the_text_is_not_listed_as_unexplained():
    assert [t.term for t in jargon_unexplained("Take it BID.")] == ["BID"]
    assert jargon_unexplained("Take it twice a day (BID).") == []


def test_reading_grade_separates_plain_from_clinical_prose():
    plain = "Take one pill in the morning. Drink water. Walk a little each day. Call us if you feel worse."
    clinical = (
        "Patient with congestive heart failure exacerbation secondary to dietary indiscretion, "
        "treated with intravenous diuresis and electrolyte repletion, hemodynamically stable."
    )
    assert reading_grade(plain) < 4 < 16 < reading_grade(clinical)
    assert reading_grade("Too short.") is None


def test_syllables_are_counted_by_vowel_groups():
    assert [syllables(w) for w in ("walk", "water", "morning", "medicine", "take", "the")] == [1, 2, 2, 3, 1, 1]


def test_the_nursing_corpus_is_full_of_jargon():
    text = shared_data("nursing-notes", "nursing-notes.txt").read_text(errors="replace")[:20000]
    found = {t.term.lower() for t in jargon_find(text)}
    assert {"pt", "po", "sob", "prn"} <= found
