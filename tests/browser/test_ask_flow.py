"""A clinician in headless Chromium asks a demo patient's chart three questions (a current dose,
a drug stopped during the stay, one the chart cannot answer), answered by the worker and swapped in
by htmx; checked against the demo ward's ground truth, which ClinSum did not write."""

import os

import pytest

from clinsum.charts.models import EmbeddingStatus, Note
from tests.browser.helpers import csp_problems, csp_watch, log_in
from tests.conftest import wait_for
from tests.demo_charts import current_drugs, demo_chart_load, discharged_patient_with_a_stopped_drug

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures

NEVER_GIVEN = "warfarin"


@pytest.fixture
def demo(celery_worker_process, clinician):
    mrn, facts = discharged_patient_with_a_stopped_drug()
    patient = demo_chart_load(mrn, enqueue=True)
    patient.unit = clinician.unit
    patient.save(update_fields=["unit"])
    wait_for(
        lambda: not Note.objects.filter(patient=patient).exclude(embedding_status=EmbeddingStatus.DONE).exists(),
        what="indexing",
        timeout=240,
    )
    return patient, facts


def _ask(page, text: str):
    """Type the question, press Ask, and wait for its answer to be swapped in."""
    page.get_by_label("Question about this patient").fill(text)
    page.get_by_role("button", name="Ask").click()
    answer = page.locator(".answer[data-status=answered]", has_text=text)
    answer.wait_for(timeout=120_000)
    return answer


def test_a_clinician_asks_about_the_present_the_past_and_what_the_chart_never_says(live_server, clinician, demo, page):
    patient, facts = demo
    drug = current_drugs(facts)[0]
    stopped = next(m for m in facts.medications if m.stopped_at is not None)
    violations, console = csp_watch(page)
    log_in(page, live_server.url, clinician.username)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    chart_url = page.url

    present = _ask(page, f"What is the current dose of {drug}?")
    assert present.get_attribute("data-abstained") == "false"
    sentences = present.locator("li.claim").all_inner_texts()
    assert sentences and drug in sentences[0].lower() and "stopped" not in sentences[0], sentences
    assert present.locator("li.claim a.cite").count() >= 1

    past = _ask(page, f"When was {stopped.drug} stopped?")
    assert past.get_attribute("data-abstained") == "false"
    said = past.locator("ul.answer-sentences").inner_text().lower()
    assert stopped.drug in said and "stopped" in said, said
    assert past.locator("li.claim a.cite").count() >= 1

    never = _ask(page, f"Is she on {NEVER_GIVEN}?")
    assert never.get_attribute("data-abstained") == "true"
    assert "The chart does not say" in never.inner_text()
    assert never.locator("li.claim").count() == 0
    assert never.locator("details.sources-read summary").inner_text().startswith("Closest notes")
    assert never.locator("details.sources-read li a").count() >= 1

    # A citation opens its note with the supporting span highlighted.
    present.locator("li.claim a.cite").first.click()
    page.locator("mark#cited").wait_for()
    assert drug in page.locator("mark#cited").inner_text().lower()

    # The chart lists the three questions asked.
    page.goto(chart_url)
    listed = page.locator(".past-questions li").all_inner_texts()
    assert len(listed) == 3, listed
    assert any(NEVER_GIVEN in q and "not in the chart" in q for q in listed), listed
    assert not csp_problems(violations, console)
