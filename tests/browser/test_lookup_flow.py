"""A clinician in headless Chromium finds a patient of another unit by MRN (issue 17): the ward
search finds nothing, the hospital-wide lookup names the patient, break-glass opens the chart."""

import os
from datetime import date

import pytest

from clinsum.access.models import BreakGlassGrant
from clinsum.audit.models import AuditEvent
from clinsum.charts.models import Patient
from tests.browser.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures


def test_a_clinician_finds_a_patient_on_another_unit_and_breaks_the_glass(live_server, clinician, page):
    icu = Patient.objects.create(
        mrn="DEMO-896455", family_name="Castillo", given_name="Mara", birth_date=date(1960, 2, 29), unit="ICU"
    )
    log_in(page, live_server.url, clinician.username)

    page.get_by_label("Find by name or MRN").fill("DEMO-896455")
    page.get_by_role("button", name="Search").click()
    assert "Castillo" not in page.locator("table").first.inner_text()  # the ward list stays the ward's
    page.get_by_role("button", name="Look up").click()  # the MRN is carried over

    row = page.get_by_role("row", name="Castillo, Mara")
    assert "DEMO-896455" in row.inner_text() and "1960-02-29" in row.inner_text() and "ICU" in row.inner_text()
    row.get_by_role("link", name="Request break-glass access").click()

    identity = page.get_by_label("Patient to confirm").inner_text()
    assert "Castillo, Mara" in identity and "DEMO-896455" in identity
    page.get_by_label("Reason for emergency access").fill("Rapid response call for this patient in ICU bed 4")
    page.get_by_role("button", name="Open the chart").click()

    page.wait_for_url(f"**/patients/{icu.pk}/")
    assert "DEMO-896455" in page.get_by_role("region", name="Patient").inner_text()
    assert BreakGlassGrant.objects.filter(user=clinician, patient=icu).exists()
    shown = AuditEvent.objects.filter(patient_id=icu.pk, action__in=("patient_lookup", "patient_identity_view"))
    assert shown.count() == 2 and not AuditEvent.objects.filter(reason__contains="DEMO-896455").exists()
