"""The question box on the chart: htmx and plain POST, the answer with its citations, past
questions listed, each ask audited by ids (never the text)."""

from __future__ import annotations

from django.urls import reverse

from clinsum.asking.models import AnswerCitation, Question
from clinsum.asking.services import question_run
from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import login_verified
from tests.demo_charts import stopped_before_discharge

from .conftest import answered


def test_a_plain_post_asks_and_leads_to_the_answer_page(discharged, clinician, client, settings):
    patient, facts = discharged
    login_verified(client, clinician)
    drug = stopped_before_discharge(facts)[0]
    response = client.post(reverse("question_ask", args=[patient.pk]), {"question": f"Is he still on {drug}?"})
    question = Question.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("question_detail", args=[question.pk])
    event = AuditEvent.objects.get(action="question_ask")
    assert event.patient_id == patient.pk and event.object_id == str(question.pk)
    assert drug not in str(event.__dict__)  # the audit trail names the question by id only
    question_run(question_id=question.pk)
    page = client.get(reverse("question_detail", args=[question.pk])).content.decode()
    assert "stopped" in page and reverse("answer_citation_detail", args=[AnswerCitation.objects.first().pk]) in page


def test_htmx_ask_answers_below_a_fresh_form_and_polls_until_answered(discharged, nurse, client):
    patient, _ = discharged
    login_verified(client, nurse)
    response = client.post(
        reverse("question_ask", args=[patient.pk]), {"question": "Any allergies?"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    question = Question.objects.get()
    assert response.status_code == 200 and 'id="ask-form"' in body
    assert f'hx-get="{reverse("question_detail", args=[question.pk])}"' in body


def test_an_empty_question_is_refused_with_a_reason(discharged, clinician, client):
    patient, _ = discharged
    login_verified(client, clinician)
    response = client.post(reverse("question_ask", args=[patient.pk]), {"question": "  "})
    assert response.status_code == 400 and "Type a question" in response.content.decode()
    htmx = client.post(reverse("question_ask", args=[patient.pk]), {"question": ""}, HTTP_HX_REQUEST="true")
    assert htmx["X-ClinSum-Status"] == "400" and "Type a question" in htmx.content.decode()
    assert not Question.objects.exists()


def test_an_unanswerable_question_says_the_chart_does_not_say(discharged, clinician, client):
    patient, _ = discharged
    login_verified(client, clinician)
    question = answered(clinician, patient, "Is he on warfarin?")
    page = client.get(reverse("question_detail", args=[question.pk])).content.decode()
    assert "The chart does not say" in page and "Closest notes" in page


def test_the_chart_lists_past_questions_and_the_box(discharged, clinician, client):
    patient, _ = discharged
    login_verified(client, clinician)
    question = answered(clinician, patient, "Any allergies?")
    page = client.get(reverse("chart_detail", args=[patient.pk])).content.decode()
    assert reverse("question_ask", args=[patient.pk]) in page
    assert reverse("question_detail", args=[question.pk]) in page and "Any allergies?" in page


def test_an_answer_citation_opens_the_note_with_the_span(discharged, clinician, client):
    patient, _ = discharged
    login_verified(client, clinician)
    answered(clinician, patient, "Any allergies?")
    citation = AnswerCitation.objects.first()
    response = client.get(reverse("answer_citation_detail", args=[citation.pk]))
    assert response.status_code == 200 and 'id="cited"' in response.content.decode()
