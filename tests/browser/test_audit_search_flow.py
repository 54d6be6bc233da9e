"""A privacy officer in headless Chromium searches the audit trail by MRN (issue 17): the
patient's events are listed with the patient's name and MRN, roles and actions in words."""

import os
from datetime import date

import pytest

from clinsum.audit.models import AuditEvent
from clinsum.audit.services import audit_record
from clinsum.charts.models import Patient
from tests.accounts.mfa import totp_device, totp_now
from tests.browser.helpers import csp_problems, csp_watch, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop vs. the ORM in fixtures


def test_a_privacy_officer_finds_a_patients_events_by_mrn(live_server, privacy_officer, clinician, nurse, page):
    icu = Patient.objects.create(
        mrn="DEMO-896455", family_name="Castillo", given_name="Mara", birth_date=date(1960, 2, 29), unit="ICU"
    )
    other = Patient.objects.create(mrn="DEMO-100001", family_name="Brennan", given_name="Olu", unit="4W")
    audit_record(action="break_glass", actor=clinician, patient_id=icu.pk, object_type="patient", object_id=icu.pk)
    audit_record(action="note_view", actor=nurse, patient_id=icu.pk, object_type="note", object_id="7")
    audit_record(action="chart_view", actor=clinician, patient_id=other.pk, object_type="patient", object_id=other.pk)

    violations, console = csp_watch(page)
    device = totp_device(privacy_officer)
    log_in(page, live_server.url, privacy_officer.username)
    page.get_by_label("6-digit code from your authenticator app").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()
    page.goto(live_server.url + "/audit/")

    page.get_by_label("Patient MRN or id").fill("DEMO-896455")
    page.get_by_role("button", name="Search").click()

    assert "Castillo, Mara" in page.locator("#searched-patients").inner_text()
    table = page.get_by_role("table")
    rows = table.get_by_role("row").filter(has_text="Castillo, Mara")
    assert rows.count() == 2
    text = table.inner_text()
    assert "MRN DEMO-896455" in text and "Brennan" not in text and "DEMO-100001" not in text
    assert "Break glass" in text and "Note view" in text and "Clinician" in text and "Nurse" in text
    assert "note_view" not in text and "clinician" not in text.replace("Clinician", "")
    # The search is audited, by patient id: the MRN typed is not copied into the trail.
    search = AuditEvent.objects.filter(action="audit_view", object_id="events").latest("seq")
    assert search.patient_id == icu.pk and "DEMO-896455" not in search.reason
    assert not csp_problems(violations, console)
