"""The extractive answerer of "Ask the chart", pure: notes as hits, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
