"""Who sees a chart's questions: its readers in scope; a citation never opens another patient's note."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from clinsum.asking.models import AnswerCitation
from clinsum.asking.selectors import (
    answer_citation_get_for_user,
    answer_sentences,
    question_get_for_user,
    question_notes,
    questions_for_patient,
)

from .conftest import answered


def test_the_charts_readers_see_its_questions_and_outsiders_do_not(discharged, clinician, nurse, outsider):
    patient, _ = discharged
    question = answered(clinician, patient, "Any allergies?")
    assert list(questions_for_patient(user=nurse, patient=patient)) == [question]
    assert question_get_for_user(user=nurse, question_id=question.pk) == question
    with pytest.raises(PermissionDenied):
        question_get_for_user(user=outsider, question_id=question.pk)
    with pytest.raises(Http404):
        question_get_for_user(user=nurse, question_id=question.pk + 1000)


def test_only_supported_sentences_are_shown_and_the_notes_read_are_this_patients(discharged, clinician):
    patient, _ = discharged
    question = answered(clinician, patient, "Any allergies?")
    question.sentences.create(ordinal=9, text="An unverified sentence.", verdict="unsupported")
    shown = answer_sentences(question=question)
    assert shown and all(s.verdict == "supported" for s in shown)
    assert {n.patient_id for n in question_notes(question=question)} == {patient.pk}


def test_a_citation_to_another_patients_note_is_not_found(discharged, notes, clinician):
    patient, _ = discharged
    question = answered(clinician, patient, "Any allergies?")
    citation = AnswerCitation.objects.filter(sentence__question=question).first()
    assert answer_citation_get_for_user(user=clinician, answer_citation_id=citation.pk) == citation
    AnswerCitation.objects.filter(pk=citation.pk).update(note=notes["p1"])
    with pytest.raises(Http404):
        answer_citation_get_for_user(user=clinician, answer_citation_id=citation.pk)
