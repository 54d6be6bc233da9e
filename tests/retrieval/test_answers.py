"""The extractive answerer of "Ask the chart", pure: notes as hits, no database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from retrieval.chunking import chunk_note
from retrieval.clinical.answers import about_present, key_words, question_answer
from retrieval.types import Hit

DAY0 = datetime(2026, 11, 13, 8, 0, tzinfo=UTC)
NOTES = [
    (
        "progress",
        "ASSESSMENT AND PLAN:\n1. Pneumonia: continue antibiotics.\n"
        "MEDICATIONS:\n- heparin 5000 units SC q8h\n- ceftriaxone 1 g IV daily\n"
        "PLAN: Sodium 130 mmol/L today, repeat in the morning.",
    ),
    ("progress", "MEDICATIONS:\n- ceftriaxone 1 g IV daily\n\nPLAN: Sodium 134 mmol/L, improving."),
    (
        "discharge_summary",
        "PRINCIPAL DIAGNOSIS: Community-acquired pneumonia\nALLERGIES:\n- Iodinated contrast (hives)\n"
        "DISCHARGE MEDICATIONS:\n- cefpodoxime 200 mg PO BID\n"
        "FOLLOW-UP:\n- Follow up with primary care in 1 week\nLABS:\nSodium 136 mmol/L",
    ),
]


def chart() -> dict[str, Hit]:
    sources, n = {}, 0
    for i, (note_type, text) in enumerate(NOTES):
        for c in chunk_note(text):
            n += 1
            sources[f"S{n}"] = Hit(
                n,
                i + 1,
                7,
                c.ordinal,
                c.char_start,
                c.char_end,
                c.section,
                c.text,
                1.0,
                note_type,
                DAY0 + timedelta(days=i),
            )
    return sources


def ask(question: str):
    sources = chart()
    return question_answer(question=question, sources=sources, ranked=list(sources))


def test_the_question_words_and_the_present():
    assert key_words("When was the last echocardiogram done?") == ["echocardiogram"]
    assert about_present("Is she still on heparin?") and not about_present("When was heparin started?")


def test_a_drug_no_longer_listed_is_answered_as_stopped():
    answer = ask("Is he still on heparin?")
    assert not answer.abstained and "stopped" in answer.sentences[0].text and "heparin" in answer.sentences[0].text


def test_the_current_list_allergies_diagnosis_and_follow_up():
    assert "cefpodoxime 200 mg" in ask("What is the current dose of cefpodoxime?").sentences[0].text
    assert "Iodinated contrast" in ask("Any reaction to contrast before?").sentences[0].text
    assert ask("What is the principal diagnosis?").sentences[0].text == "Community-acquired pneumonia"
    assert "primary care" in ask("What follow-up is planned?").sentences[0].text


def test_the_last_lab_value_comes_first():
    answer = ask("What was the last sodium?")
    assert "136" in answer.sentences[0].text and len(answer.sentences) <= 3


def test_every_sentence_quotes_its_source():
    sources = chart()
    for question in ("Is he still on heparin?", "What was the last sodium?", "Any allergies?"):
        for finding in question_answer(question=question, sources=sources, ranked=list(sources)).sentences:
            assert all(quote in sources[sid].text for sid, quote in finding.cites)


def test_what_no_note_names_is_not_answered():
    for question in (
        "Is he on warfarin?",
        "When was the last colonoscopy?",
        "What about bed 12?",
        "Allergic to penicillin?",
    ):
        answer = ask(question)
        assert answer.abstained and not answer.sentences and answer.closest


# --- issue 18: what clinicians actually type (a second, hand-written chart) ----------------

WARD = [
    (
        "history_physical",
        "CHIEF COMPLAINT: Palpitations.\n"
        "ADMISSION DIAGNOSIS:\n1. Atrial flutter with rapid ventricular response\n"
        "ALLERGIES:\n- Penicillin (rash)\n- Latex (hives)\n"
        "LABS:\nSodium 128 mmol/L\nPotassium 3.1 mmol/L\nCreatinine 1.9 mg/dL\n"
        "MEDICATIONS:\n- patiromer 8.4 g PO daily\n- sodium zirconium cyclosilicate 10 g PO TID\n"
        "- metoprolol tartrate 25 mg PO BID\n",
    ),
    (
        "progress",
        "MEDICATIONS:\n- sodium zirconium cyclosilicate 10 g PO TID\n- metoprolol tartrate 50 mg PO BID\n"
        "- vancomycin 1250 mg IV q12h\n- potassium chloride 20 mEq PO BID\n"
        "- Sodium chloride 0.9% 75 mL/hr IV continuous\n"
        "ASSESSMENT AND PLAN:\n1. Flutter: TTE today shows LVEF 40%, no thrombus.\n"
        "2. Bacteremia: vancomycin trough 14.8 mcg/mL, at goal.\n"
        "3. Lines: right IJ central venous catheter placed under ultrasound.\n"
        "LABS:\nSodium 133 mmol/L\nTroponin T 0.09 ng/mL\nCreatinine 1.4 mg/dL\n",
    ),
    (
        "progress",
        "MEDICATIONS:\n- metoprolol tartrate 50 mg PO BID\n- vancomycin 1250 mg IV q12h\n"
        "- Sodium chloride 0.9% 75 mL/hr IV continuous\n- magnesium sulfate 2 g IV once\n"
        "ASSESSMENT AND PLAN:\n1. Flutter: rate controlled. Mild troponin leak, likely demand.\n"
        "LABS:\nSodium 137 mmol/L\nMagnesium 1.6 mg/dL\nTroponin T 0.05 ng/mL (prior 0.09)\n"
        "FOLLOW-UP:\n- Cardiology clinic in 2 weeks for a TEE and cardioversion\n"
        "- Repeat BMP in 3 days\n- Echo report addendum pending\n",
    ),
]


def ward() -> dict[str, Hit]:
    sources, n = {}, 0
    for i, (note_type, text) in enumerate(WARD):
        for c in chunk_note(text):
            n += 1
            hit = Hit(n, i + 1, 9, c.ordinal, c.char_start, c.char_end, c.section, c.text, 1.0, note_type)
            sources[f"S{n}"] = Hit(**{**vars(hit), "authored_at": DAY0 + timedelta(days=i)})
    return sources


def ask_ward(question: str):
    sources = ward()
    return question_answer(question=question, sources=sources, ranked=list(sources))


def shown(question: str) -> list[str]:
    return [f.text for f in ask_ward(question).sentences]


@pytest.mark.parametrize(
    "question",
    [
        "Does she have any drug allergies?",
        "any known drug allergies",
        "Med allergies?",
        "Any medication allergies documented?",
        "What is she allergic to?",
        "food or drug allergies?",
        "Is she NKDA?",
    ],
)
def test_allergy_class_words_are_not_a_substance(question):
    texts = shown(question)
    assert any("Penicillin" in t for t in texts) and any("Latex" in t for t in texts)


@pytest.mark.parametrize(
    "question",
    [
        "What is she here for?",
        "admitting dx?",
        "What's the dx?",
        "Why is she in the hospital?",
        "reason for admission",
        "Working diagnosis?",
        "What brought her in?",
        "Why was she admitted?",
    ],
)
def test_the_diagnosis_in_its_common_forms(question):
    assert shown(question)[:1] == ["Atrial flutter with rapid ventricular response"]


@pytest.mark.parametrize(
    "question",
    [
        "What is planned after discharge?",
        "what needs follow up after discharge",
        "Post-discharge plan?",
        "Anything to arrange after discharge?",
        "f/u after dc?",
        "What does she need once home?",
    ],
)
def test_discharge_is_when_not_what_in_a_follow_up_question(question):
    answer = ask_ward(question)
    assert not answer.abstained and "Cardiology clinic in 2 weeks" in answer.sentences[0].text


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("What was the first creatinine?", "1.9"),
        ("Creatinine on admission?", "1.9"),
        ("admission sodium", "128"),
        ("initial potassium?", "3.1"),
        ("Earliest sodium?", "128"),
        ("What was her Cr at presentation?", "1.9"),
        ("baseline creatinine", "1.9"),
    ],
)
def test_the_stays_beginning_is_answered_oldest_first(question, value):
    answer = ask_ward(question)
    assert not answer.abstained and value in answer.sentences[0].text


@pytest.mark.parametrize(
    ("question", "written"),
    [
        ("when was the last echo", "TTE today"),
        ("Echo done?", "TTE today"),
        ("Has she had an echocardiogram?", "TTE today"),
        ("Central line done?", "central venous catheter"),
        ("any CVC?", "central venous catheter"),
        ("When was the central venous line placed?", "central venous catheter"),
        ("latest Cr", "Creatinine 1.4"),
        ("last Na?", "Sodium 137"),
        ("trop?", "Troponin T"),
    ],
)
def test_clinical_shorthand_finds_the_written_name(question, written):
    answer = ask_ward(question)
    assert not answer.abstained and any(written in f.text for f in answer.sentences)


@pytest.mark.parametrize("question", ["Has she had a bubble echo?", "Any CXR?", "When was the EGD?", "Foley placed?"])
def test_shorthand_never_stands_for_something_else(question):
    assert ask_ward(question).abstained  # the TTE had no bubble study; no CXR, EGD or Foley in this chart


def test_a_tee_question_does_not_take_the_tte():
    texts = shown("TEE done?")
    assert texts and all("TEE" in t and "TTE" not in t for t in texts)  # only the planned TEE


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("What was the last sodium?", "Sodium 137 mmol/L"),
        ("Latest Na?", "Sodium 137 mmol/L"),
        ("sodium level?", "Sodium 137 mmol/L"),
        ("most recent magnesium", "Magnesium 1.6 mg/dL"),
        ("What's her current potassium?", "Potassium 3.1 mmol/L"),
        ("last vancomycin trough", "vancomycin trough 14.8"),
        ("vanc trough?", "vancomycin trough 14.8"),
    ],
)
def test_a_lab_that_is_also_a_drug_word_is_answered_from_results(question, first):
    texts = shown(question)
    assert texts and first in texts[0]
    assert not any(re.search(r"chloride 0\.9|sulfate 2 g|1250 mg|20 mEq", t) for t in texts)


@pytest.mark.parametrize(
    "question",
    [
        "Latest troponin T?",
        "What was the last troponin?",
        "most recent trop",
        "current troponin level",
        "troponin now?",
    ],
)
def test_the_newest_result_first_and_no_unrelated_sentence(question):
    texts = shown(question)
    assert texts[0].startswith("Troponin T 0.05") and all(re.search(r"\d", t) for t in texts)
    assert not any("leak" in t for t in texts)


@pytest.mark.parametrize(
    "question",
    [
        "Is she still on sodium zirconium cyclosilicate?",
        "still getting sodium zirconium cyclosilicate?",
        "Is she on Lokelma?",
        "Sodium zirconium cyclosilicate given at any point?",
        "current sodium zirconium cyclosilicate dose",
    ],
)
def test_a_multi_word_drug_off_the_newest_list_is_never_current(question):
    answer = ask_ward(question)
    assert not answer.abstained
    texts = [f.text for f in answer.sentences]
    assert texts and all("stopped, not on the medication list" in t for t in texts if "zirconium" in t)
    assert any("zirconium" in t for t in texts)


def test_a_note_that_names_the_first_value_outranks_the_oldest_note():
    sources = ward()
    n = len(sources)
    text = "HOSPITAL COURSE:\nCreatinine 1.9 mg/dL on admission, 1.4 at last check."
    for c in chunk_note(text):
        n += 1
        hit = Hit(n, 4, 9, c.ordinal, c.char_start, c.char_end, c.section, c.text, 1.0, "discharge_summary")
        sources[f"S{n}"] = Hit(**{**vars(hit), "authored_at": DAY0 + timedelta(days=3)})
    answer = question_answer(question="What was the first creatinine?", sources=sources, ranked=list(sources))
    assert "1.9 mg/dL on admission" in answer.sentences[0].text


@pytest.mark.parametrize(
    "question, past",
    [
        ("What was the first creatinine?", True),
        ("Was heparin ever given?", True),
        ("Has she received vancomycin this admission?", True),
        ("Did he get any contrast during the stay?", True),
        ("Sodium zirconium cyclosilicate given at any point?", True),
        ("Is she on heparin?", False),
        ("Is he still getting vancomycin?", False),
        ("Current furosemide dose?", False),
        ("What is the latest potassium?", False),
    ],
)
def test_a_question_about_the_past_is_told_from_one_about_now(question, past):
    """A past question may be answered by a quote a newer note contradicts (true when written);
    a question about now never is."""
    from retrieval.clinical.answers import about_the_past

    assert about_the_past(question) is past
