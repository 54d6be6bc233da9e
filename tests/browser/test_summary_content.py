"""A clinician in headless Chromium reads a demo patient's summary against the ward's ground
truth: the principal diagnosis, every current medicine, and a drug stopped before discharge
shown as stopped, never as current."""

import os

import pytest

from clinsum.charts.models import EmbeddingStatus, Note
from tests.browser.helpers import log_in
from tests.conftest import wait_for
from tests.demo_charts import current_drugs, demo_chart_load, discharged_patient_with_a_stopped_drug

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures


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


def test_a_clinician_finds_the_diagnosis_and_the_reconciled_medicines(live_server, clinician, demo, page):
    patient, facts = demo
    log_in(page, live_server.url, clinician.username)
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    assert patient.mrn in page.get_by_role("region", name="Patient").inner_text()

    page.get_by_role("button", name="Summarize chart").click()
    page.locator("#summary-panel[data-status=done]").wait_for(timeout=120_000)

    problems = page.locator("section[aria-labelledby=sec-problems] li.claim").all_inner_texts()
    assert facts.problems[0].lower() in problems[0].lower(), problems

    medicines = [m.lower() for m in page.locator("section[aria-labelledby=sec-medications] li.claim").all_inner_texts()]
    for drug in current_drugs(facts):
        assert any(drug in m and "stopped" not in m for m in medicines), (drug, medicines)
    stopped = [c.drug for c in facts.medications if c.stopped_at is not None]
    shown_stopped = [m for m in medicines if "stopped" in m]
    assert any(drug in m for drug in stopped for m in shown_stopped), medicines
    for drug in stopped:
        assert all("stopped" in m for m in medicines if drug in m), (drug, medicines)

    allergies = " ".join(page.locator("section[aria-labelledby=sec-allergies] li.claim").all_inner_texts()).lower()
    for allergy in facts.allergies:
        assert allergy.substance.lower() in allergies
