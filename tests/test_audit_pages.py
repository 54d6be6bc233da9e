"""clinsum/audit_pages.py: the privacy officers' audit search finds a patient's events by exact
MRN or by family name and birth date, shows whom each event was about, and shows roles and
actions as words. (The filters by user, action and days, paging, export and anomaly scan are
tested in tests/audit/test_views.py.)"""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from clinsum.audit.models import AuditEvent
from clinsum.charts.models import Patient
from tests.accounts.mfa import login_verified
from tests.audit.conftest import append_event

NY = ZoneInfo("America/New_York")


@pytest.fixture
def po(privacy_officer):
    return login_verified(Client(), privacy_officer)


@pytest.fixture
def trail(ward, clinician, nurse):
    """Ruth Ashford (T-001, born 1950-02-03): a chart view by alice and a note view by nina;
    Olu Brennan (T-002): a chart view by alice."""
    Patient.objects.filter(pk=ward["p1"].pk).update(birth_date=date(1950, 2, 3))
    ruth, olu = ward["p1"].pk, ward["p2"].pk
    return {
        "ruth_chart": append_event(at=datetime(2026, 3, 9, 9, 0, tzinfo=NY), actor=clinician, patient_id=ruth),
        "olu_chart": append_event(at=datetime(2026, 3, 9, 9, 5, tzinfo=NY), actor=clinician, patient_id=olu),
        "ruth_note": append_event(
            at=datetime(2026, 3, 9, 10, 0, tzinfo=NY), actor=nurse, patient_id=ruth, action="note_view"
        ),
    }


def seqs(response) -> list[int]:
    return [e.seq for e in response.context["events"]]


def test_a_search_by_mrn_lists_the_patients_events_with_name_and_mrn(po, ward, trail):
    response = po.get(reverse("audit_event_list"), {"patient": "t-001"})
    assert response.status_code == 200
    assert seqs(response) == [trail["ruth_note"].seq, trail["ruth_chart"].seq]
    body = response.content.decode()
    assert "Ashford, Ruth" in body and "MRN T-001" in body and "Brennan" not in body
    assert "Enter a whole number" not in body


def test_a_search_by_family_name_and_birth_date_lists_the_patients_events(po, ward, trail):
    response = po.get(reverse("audit_event_list"), {"family_name": "ASHFORD", "birth_date": "1950-02-03"})
    assert seqs(response) == [trail["ruth_note"].seq, trail["ruth_chart"].seq]
    assert "Ashford, Ruth" in response.content.decode()


def test_the_internal_id_still_works(po, ward, trail):
    response = po.get(reverse("audit_event_list"), {"patient": str(ward["p2"].pk)})
    assert seqs(response) == [trail["olu_chart"].seq]
    assert "Brennan, Olu" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"patient": "T-00"}, "No patient has this MRN"),  # never a partial match
        ({"family_name": "Ash", "birth_date": "1950-02-03"}, "No patient has this family name and birth date"),
        ({"family_name": "Ashford"}, "Give the birth date with the family name"),
        ({"birth_date": "1950-02-03"}, "Give the family name with the birth date"),
        ({"patient": "T-001", "family_name": "Ashford", "birth_date": "1950-02-03"}, "not both"),
    ],
)
def test_a_patient_not_named_exactly_lists_nothing_and_says_why(po, ward, trail, query, message):
    response = po.get(reverse("audit_event_list"), query)
    assert response.status_code == 200 and seqs(response) == []
    assert message in response.content.decode()


def test_the_search_is_audited_with_patient_ids_not_the_mrn_or_name(po, ward, trail, privacy_officer):
    po.get(reverse("audit_event_list"), {"family_name": "Ashford", "birth_date": "1950-02-03"})
    po.get(reverse("audit_event_list"), {"patient": "T-001"})
    by_name, by_mrn = AuditEvent.objects.filter(action="audit_view").order_by("seq")
    for row in (by_name, by_mrn):
        assert (row.actor_id, row.patient_id, row.object_id) == (privacy_officer.pk, ward["p1"].pk, "events")
        assert f"patients={ward['p1'].pk}" in row.reason
        assert "T-001" not in row.reason and "Ashford" not in row.reason and "1950" not in row.reason


def test_the_export_takes_an_mrn_and_is_audited_without_it(po, ward, trail):
    response = po.get(reverse("audit_event_export"), {"patient": "T-001"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["seq"]) for r in rows] == [trail["ruth_note"].seq, trail["ruth_chart"].seq]
    assert [(r["patient_id"], r["patient_mrn"]) for r in rows] == [(str(ward["p1"].pk), "T-001")] * 2
    export = AuditEvent.objects.get(action="audit_export")
    assert export.patient_id == ward["p1"].pk and "rows=2" in export.reason and "T-001" not in export.reason


def test_an_unknown_mrn_is_refused_by_the_export(po, ward, trail):
    response = po.get(reverse("audit_event_export"), {"patient": "T-404"})
    assert response.status_code == 400 and "No patient has this MRN" in response.content.decode()
    assert not AuditEvent.objects.filter(action="audit_export").exists()


def test_roles_and_actions_read_as_words_and_times_stay_on_one_line(po, ward, trail):
    body = po.get(reverse("audit_event_list")).content.decode()
    assert "<td>Clinician</td>" in body and "<td>Nurse</td>" in body and "<td>clinician</td>" not in body
    assert ">Note view</td>" in body and ">note_view</td>" not in body
    assert '<td class="nowrap">2026-03-09 10:00:00</td>' in body
    assert "YYYY-MM-DD" not in body


def test_the_patient_access_page_shows_role_and_action_labels(po, ward, trail):
    body = po.get(reverse("audit_patient_access"), {"patient": ward["p1"].pk}).content.decode()
    assert "<td>Nurse</td>" in body and "<td>Note view</td>" in body and "<td>note_view</td>" not in body
    assert "YYYY-MM-DD" not in body


def test_the_anomaly_page_shows_role_labels_and_whom_a_flag_is_about(po, ward, clinician):
    append_event(
        at=datetime(2026, 3, 9, 23, 30, tzinfo=NY), actor=clinician, patient_id=ward["p1"].pk, action="break_glass"
    )
    body = po.get(reverse("audit_anomaly_list"), {"date_from": "2026-03-09", "date_to": "2026-03-10"}).content.decode()
    assert "<td>Clinician</td>" in body and "Ashford, Ruth" in body and "MRN T-001" in body
