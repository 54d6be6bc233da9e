"""question_ask / question_run against real PostgreSQL: the demo ward's ground truth checks the
answers (ClinSum did not write the notes), abstention on what the chart never mentions."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import PermissionDenied

from clinsum.asking.models import Question
from clinsum.asking.services import QuestionError, question_ask, question_run
from clinsum.summaries.models import ModelCall
from tests.demo_charts import current_drugs, stopped_before_discharge

from .conftest import answered, shown


def test_a_stopped_drug_is_answered_as_stopped_with_its_citation(discharged, clinician):
    patient, facts = discharged
    drug = stopped_before_discharge(facts)[0]
    question = answered(clinician, patient, f"Is he still on {drug}?")
    assert question.status == "answered" and not question.abstained
    sentences = shown(question)
    assert sentences and drug in sentences[0].lower() and "stopped" in sentences[0]
    citation = question.sentences.order_by("ordinal").first().citations.first()
    assert citation.note.patient_id == patient.pk
    assert citation.quote and citation.note.text[citation.char_start : citation.char_end]


def test_a_current_drug_is_answered_from_the_newest_list(discharged, clinician):
    patient, facts = discharged
    drug = current_drugs(facts)[0]
    question = answered(clinician, patient, f"What is the current dose of {drug}?")
    assert not question.abstained
    assert drug in shown(question)[0].lower() and "stopped" not in shown(question)[0]


def test_allergies_and_the_principal_diagnosis_come_from_the_chart_reader(discharged, nurse):
    patient, facts = discharged
    allergies = answered(nurse, patient, "Any allergies?")
    assert facts.allergies[0].substance.lower() in " ".join(shown(allergies)).lower()
    diagnosis = answered(nurse, patient, "What is the principal diagnosis?")
    assert shown(diagnosis) == [facts.problems[0]]


def test_the_last_lab_value_is_quoted_from_the_newest_note(discharged, clinician):
    patient, facts = discharged
    last = max((lab for lab in facts.labs if lab.name == "Creatinine"), key=lambda lab: lab.at)
    question = answered(clinician, patient, "What was the last creatinine?")
    assert not question.abstained
    assert last.value in shown(question)[0]


@pytest.mark.parametrize(
    "text",
    ["Is he on warfarin?", "When was the last colonoscopy?", "What about bed 12?", "Any reaction to penicillin?"],
)
def test_what_the_chart_never_mentions_is_not_guessed(discharged, clinician, text):
    patient, _ = discharged
    question = answered(clinician, patient, text)
    assert question.status == "answered" and question.abstained
    assert not question.sentences.filter(verdict="supported").exists()
    assert question.source_note_ids  # the closest notes are listed instead


def test_every_answer_is_recorded_as_a_model_call_of_the_question(discharged, clinician):
    patient, _ = discharged
    question = answered(clinician, patient, "Any allergies?")
    call = ModelCall.objects.get(question=question)
    assert call.backend == "extractive" and call.outcome == "ok"
    assert question.text not in call.request_body  # the record names the question by id


def test_the_question_text_is_validated(discharged, clinician):
    patient, _ = discharged
    for text in ["", "   ", "bad\x00text", "x" * 501]:
        with pytest.raises(QuestionError):
            question_ask(user=clinician, patient_id=patient.pk, text=text, enqueue=False)
    assert not Question.objects.exists()


def test_only_readers_of_the_chart_ask(discharged, outsider, admin_user):
    patient, _ = discharged
    for user in (outsider, admin_user):
        with pytest.raises(PermissionDenied):
            question_ask(user=user, patient_id=patient.pk, text="Any allergies?", enqueue=False)


def test_an_asker_who_lost_the_chart_gets_no_answer(discharged, clinician):
    patient, _ = discharged
    question = question_ask(user=clinician, patient_id=patient.pk, text="Any allergies?", enqueue=False)
    clinician.unit = "ICU"
    clinician.save()
    question = question_run(question_id=question.pk)
    assert question.status == "failed" and not question.sentences.exists()


def test_the_question_text_never_reaches_a_log(discharged, clinician, caplog):
    patient, facts = discharged
    text = f"Planted question zq{patient.pk}x about {stopped_before_discharge(facts)[0]}?"
    with caplog.at_level(logging.DEBUG):
        answered(clinician, patient, text)
    assert caplog.records and not any(text in r.getMessage() for r in caplog.records)


def test_a_question_about_the_start_of_the_stay_is_answered_though_newer_notes_differ(discharged, clinician):
    """ "What was the first creatinine?" quotes the admission value; the verifier calls it out of
    date (a newer note gives another value), which is true and beside the point: it is shown as
    true when written, with the newer note cited next to it."""
    patient, facts = discharged
    name = next(
        n
        for n in dict.fromkeys(lab.name for lab in facts.labs)
        if len({lab.value for lab in facts.labs if lab.name == n}) > 1
    )
    first = min((lab for lab in facts.labs if lab.name == name), key=lambda lab: lab.at)
    question = answered(clinician, patient, f"What was the first {name}?")
    assert not question.abstained
    assert first.value in shown(question)[0]
    sentence = question.sentences.filter(verdict="supported").order_by("ordinal").first()
    if sentence.verdict_reason.startswith("true when written"):
        assert sentence.citations.filter(newer=True).exists()


def test_a_stopped_drug_is_never_answered_as_current_without_a_present_tense_word(discharged, clinician):
    patient, facts = discharged
    drug = stopped_before_discharge(facts)[0]
    question = answered(clinician, patient, f"Is he on {drug}?")
    assert all("stopped" in text for text in shown(question) if drug in text.lower())
