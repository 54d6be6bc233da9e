import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import login_verified

from .conftest import append_event

NY = ZoneInfo("America/New_York")  # settings.TIME_ZONE in tests
PAGES = ["audit_event_list", "audit_event_export", "audit_patient_access", "audit_anomaly_list"]


@pytest.fixture
def po_client(client, privacy_officer):
    client.force_login(privacy_officer)
    return client


@pytest.fixture
def trail(db, clinician, nurse):
    """alice opens patient 1 twice and patient 2 once on 9 March (local), nina patient 1 on 10 March."""
    return {
        "a1": append_event(at=datetime(2026, 3, 9, 9, 0, tzinfo=NY), actor=clinician, patient_id=1),
        "a2": append_event(
            at=datetime(2026, 3, 9, 21, 30, tzinfo=NY),
            actor=clinician,
            patient_id=1,
            action="note_view",
            object_type="note",
            object_id="11",
        ),
        "a3": append_event(at=datetime(2026, 3, 9, 10, 0, tzinfo=NY), actor=clinician, patient_id=2),
        "n1": append_event(at=datetime(2026, 3, 10, 8, 0, tzinfo=NY), actor=nurse, patient_id=1),
    }


def seqs(response) -> list[int]:
    return [e.seq for e in response.context["events"] if e.action != "audit_view"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("actor", ["clinician", "nurse", "admin_user", "outsider"])
def test_it_refuses_every_other_role(client, request, page, actor):
    client.force_login(request.getfixturevalue(actor))
    assert client.get(reverse(page), {"patient": 1}).status_code == 403
    assert not AuditEvent.objects.filter(action__in=("audit_view", "audit_export")).exists()


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_users_to_login(client, db, page):
    response = client.get(reverse(page))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_lists_events_and_audits_the_view(po_client, trail, privacy_officer):
    response = po_client.get(reverse("audit_event_list"))
    assert response.status_code == 200
    assert seqs(response) == [4, 3, 2, 1]
    view = AuditEvent.objects.get(action="audit_view")
    assert (view.actor_username, view.object_id) == ("priya", "events")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"username": "alice"}, [3, 2, 1]),
        ({"username": "NINA"}, [4]),
        ({"patient": "1"}, [4, 2, 1]),
        ({"action": "note_view"}, [2]),
        ({"patient": "1", "username": "alice"}, [2, 1]),
        # Days are hospital-time days: 21:30 on 9 March in New York is 10 March in UTC.
        ({"date_from": "2026-03-09", "date_to": "2026-03-09"}, [3, 2, 1]),
        ({"date_from": "2026-03-10"}, [4]),
        ({"date_to": "2026-03-08"}, []),
    ],
)
def test_it_filters(po_client, trail, query, expected):
    response = po_client.get(reverse("audit_event_list"), query)
    assert seqs(response) == expected
    assert AuditEvent.objects.filter(action="audit_view").latest("seq").reason  # the search is recorded


def test_it_shows_form_errors_and_no_events(po_client, trail):
    response = po_client.get(reverse("audit_event_list"), {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert response.status_code == 200
    assert "after the end date" in response.content.decode() and seqs(response) == []


def test_it_paginates(po_client, trail, settings):
    settings.AUDIT_PAGE_SIZE = 2
    first = po_client.get(reverse("audit_event_list"), {"username": "alice"})
    second = po_client.get(reverse("audit_event_list"), {"username": "alice", "page": 2})
    assert seqs(first) == [3, 2] and seqs(second) == [1]
    assert "username=alice" in first.content.decode().split('rel="next"')[0].rsplit("href=", 1)[1]


def test_it_exports_a_search_as_csv_and_audits_the_export(po_client, trail, clinician):
    append_event(
        at=datetime(2026, 3, 9, 11, 0, tzinfo=NY),
        actor=clinician,
        patient_id=1,
        action="login_failed",
        reason="=HYPERLINK(1)",
    )
    response = po_client.get(reverse("audit_event_export"), {"username": "alice", "patient": "1"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["seq"]) for r in rows] == [5, 2, 1]
    assert rows[0]["reason"] == "'=HYPERLINK(1)"  # a formula is defused
    assert rows[1]["at_local"] == "2026-03-09T21:30:00-04:00" and rows[1]["object_id"] == "11"
    export = AuditEvent.objects.get(action="audit_export")
    assert export.actor_username == "priya" and "rows=3" in export.reason and "username=alice" in export.reason


def test_it_reports_who_accessed_a_patient(po_client, trail):
    response = po_client.get(reverse("audit_patient_access"), {"patient": 1})
    rows = response.context["rows"]
    assert [(r["actor_username"], r["role"], r["count"]) for r in rows] == [
        ("nina", "nurse", 1),
        ("alice", "clinician", 2),
    ]
    alice = rows[1]
    assert alice["first"] == trail["a1"].at and alice["last"] == trail["a2"].at
    assert alice["actions"] == ["chart_view", "note_view"]
    assert AuditEvent.objects.filter(action="audit_view", object_id="patient_access").exists()


def test_the_access_page_asks_for_a_patient_first(po_client, trail):
    response = po_client.get(reverse("audit_patient_access"))
    assert response.status_code == 200 and response.context["rows"] is None


def test_it_shows_no_note_text(po_client, ward, clinician):
    from clinsum.charts.services import notes_ingest
    from tests.conftest import note_record

    notes_ingest(notes=[note_record("T-001", "Patient reports SECRET-SYMPTOM since Tuesday.")])
    patient = ward["p1"]
    append_event(at=datetime(2026, 3, 9, 9, 0, tzinfo=NY), actor=clinician, patient_id=patient.pk)
    for page in ("audit_event_list", "audit_patient_access"):
        body = po_client.get(reverse(page), {"patient": patient.pk}).content.decode()
        # The patient's name and MRN are shown (issue 17: whom an event was about); note text never.
        assert "SECRET-SYMPTOM" not in body


def _open_charts(actor, *, start: datetime, patients, step: timedelta):
    for i, patient_id in enumerate(patients):
        append_event(at=start + i * step, actor=actor, patient_id=patient_id, action="chart_view")


def anomalies(client, **query):
    query = {"date_from": "2026-03-01", "date_to": "2026-03-31", **query}
    return client.get(reverse("audit_anomaly_list"), query).context["anomalies"]


def test_a_user_opening_more_charts_than_the_limit_within_an_hour_is_flagged(po_client, clinician, nurse, settings):
    settings.AUDIT_ANOMALY_CHARTS_PER_HOUR = 3
    start = datetime(2026, 3, 9, 10, 0, tzinfo=NY)
    _open_charts(clinician, start=start, patients=[1, 2, 3, 4], step=timedelta(minutes=15))  # 4 in 45 min
    _open_charts(nurse, start=start, patients=[1, 2, 3, 3, 2, 1], step=timedelta(minutes=5))  # only 3 distinct
    flags = anomalies(po_client)
    assert [(a.kind, a.actor_username, a.count) for a in flags] == [("chart_burst", "alice", 4)]


def test_the_same_number_spread_over_more_than_an_hour_is_not_flagged(po_client, clinician, settings):
    settings.AUDIT_ANOMALY_CHARTS_PER_HOUR = 3
    _open_charts(
        clinician, start=datetime(2026, 3, 9, 10, 0, tzinfo=NY), patients=[1, 2, 3, 4], step=timedelta(minutes=20)
    )  # the 4th is exactly one hour after the 1st
    assert anomalies(po_client) == []


def test_the_default_limit_is_thirty(po_client, clinician):
    start = datetime(2026, 3, 9, 10, 0, tzinfo=NY)
    _open_charts(clinician, start=start, patients=range(1, 31), step=timedelta(minutes=1))
    assert anomalies(po_client) == []
    append_event(at=start + timedelta(minutes=31), actor=clinician, patient_id=31)
    assert [a.count for a in anomalies(po_client)] == [31]


def test_break_glass_outside_day_hours_is_flagged(po_client, clinician, nurse):
    night = append_event(
        at=datetime(2026, 3, 9, 23, 15, tzinfo=NY), actor=clinician, patient_id=5, action="break_glass"
    )
    append_event(at=datetime(2026, 3, 9, 10, 0, tzinfo=NY), actor=nurse, patient_id=6, action="break_glass")
    append_event(at=datetime(2026, 3, 10, 6, 59, tzinfo=NY), actor=nurse, patient_id=7, action="break_glass")
    append_event(at=datetime(2026, 3, 10, 19, 0, tzinfo=NY), actor=nurse, patient_id=8, action="break_glass")
    flags = anomalies(po_client)
    assert sorted((a.kind, a.patient_id) for a in flags) == [
        ("after_hours_break_glass", 5),
        ("after_hours_break_glass", 7),
        ("after_hours_break_glass", 8),
    ]
    assert next(a for a in flags if a.patient_id == 5).seq == night.seq
    assert AuditEvent.objects.filter(action="audit_view", object_id="anomalies").exists()


def test_only_privacy_officers_read_the_audit_trail(clinician, privacy_officer, client):
    client.force_login(clinician)
    assert client.get(reverse("audit_event_list")).status_code == 403
    login_verified(client, privacy_officer)
    assert client.get(reverse("audit_event_list")).status_code == 200
