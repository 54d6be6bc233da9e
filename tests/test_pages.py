"""clinsum/pages.py: the chart page, shown to who may read the chart and audited, and the privacy
officers' patient-access page found by MRN or by name and birth date (its reports themselves are
tested with the audit pages in tests/audit/test_views.py)."""

import logging
import re
from dataclasses import replace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import login_verified
from tests.conftest import note_record


def test_it_shows_the_chart_and_audits_the_read(clinician, ward, notes, client):
    client.force_login(clinician)
    response = client.get(reverse("chart_detail", args=[ward["p1"].pk]))
    assert response.status_code == 200
    assert b"T-001" in response.content and b"Ashford, Ruth" in response.content
    event = AuditEvent.objects.get(action="chart_view")
    assert (event.actor_id, event.patient_id, event.object_id) == (clinician.pk, ward["p1"].pk, str(ward["p1"].pk))


def test_an_outsider_cannot_open_the_chart_or_its_notes(outsider, ward, notes, client):
    client.force_login(outsider)
    assert client.get(reverse("chart_detail", args=[ward["p1"].pk])).status_code == 403
    assert client.get(reverse("note_detail", args=[notes["T-001"].pk])).status_code == 403
    assert not AuditEvent.objects.filter(action__in=["chart_view", "note_view"]).exists()


def test_anonymous_users_are_sent_to_login(ward, client):
    response = client.get(reverse("chart_detail", args=[ward["p1"].pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_chart_banner_shows_the_id_a_ward_gives_the_admin(identified_patient, clinician):
    body = login_verified(Client(), clinician).get(reverse("chart_detail", args=[identified_patient.pk]))
    assert f"<dt>ClinSum id</dt><dd>{identified_patient.pk}</dd>" in body.content.decode()


# --- Navigating a chart: filters, search, the stay's timeline, the Pending badge ------------------

CHART_NOTES = (
    # (note_type, author, days_ago, title, text)
    ("history_physical", "Dr. Ames", 6, "History and Physical", "Admitted with edema. Start furosemide 40 mg IV."),
    ("operative", "Dr. Cole", 4, "Paracentesis", "Procedure: paracentesis, 2 L removed. Tolerated well."),
    ("progress", "Dr. Ames", 3, "Transfer note", "Transfer to 4W from ICU. Furosemide continued & weights daily."),
    ("progress", "Dr. Ames", 2, "Post-procedure day 2", "Afebrile. Edema improving."),
    ("nursing", "Sam Okafor, RN", 2, "", "Walked the hall twice."),
    ("discharge_summary", "Dr. Ames", 1, "Discharge Summary", "Discharged home on furosemide 20 mg daily."),
)


@pytest.fixture
def chart_notes(ward):
    """Ruth's stay (4W) as six notes, not yet indexed, by title (nursing: "nursing")."""
    from clinsum.charts.services import notes_ingest

    records = [
        replace(note_record("T-001", text, days_ago=days, note_type=kind), author=author, title=title)
        for kind, author, days, title, text in CHART_NOTES
    ]
    notes_ingest(notes=records, enqueue=False)
    return {(n.title or n.note_type): n for n in ward["p1"].notes.all()}


def note_links(body: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/notes/(\d+)/"', body)]


def notes_panel(body: str) -> str:
    return body[body.index('id="notes-panel"') :]


def test_the_chart_notes_filter_by_type_author_and_dates(clinician, ward, chart_notes, client):
    client.force_login(clinician)
    url = reverse("chart_detail", args=[ward["p1"].pk])

    def shown(**params) -> set[str]:
        body = notes_panel(client.get(url, params).content.decode())
        by_pk = {n.pk: key for key, n in chart_notes.items()}
        return {by_pk[pk] for pk in note_links(body)}

    assert len(shown()) == 6
    assert shown(type="operative") == {"Paracentesis"}
    assert shown(author="Sam Okafor, RN") == {"nursing"}
    # days_ago counts back from 2026-11-20 08:00 UTC: 3 days ago is 2026-11-17 (hospital time)
    assert shown(start="2026-11-17", end="2026-11-18") == {"Transfer note", "Post-procedure day 2", "nursing"}
    assert shown(author="Dr. Ames", start="2026-11-18") == {"Post-procedure day 2", "Discharge Summary"}
    assert shown(type="no-such-type", start="not a date") == set(shown())  # invalid filters are ignored
    assert (
        "No notes match these filters." in client.get(url, {"author": "Dr. Ames", "type": "nursing"}).content.decode()
    )


def test_htmx_filters_swap_only_the_notes_panel(clinician, ward, chart_notes, client):
    client.force_login(clinician)
    response = client.get(
        reverse("chart_detail", args=[ward["p1"].pk]), {"type": "discharge_summary"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="notes-panel"') and "<html" not in body
    assert note_links(body) == [chart_notes["Discharge Summary"].pk]


def test_chart_search_marks_the_words_and_links_to_the_passage(clinician, ward, chart_notes, client, caplog):
    from clinsum.charts.indexing import notes_index

    notes_index(note_ids=[n.pk for n in chart_notes.values()])
    client.force_login(clinician)
    caplog.set_level(logging.DEBUG)
    response = client.post(reverse("chart_search", args=[ward["p1"].pk]), {"q": "furosemide weights"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "3 passages found" in body
    assert "<mark>Furosemide</mark> continued &amp; <mark>weights</mark> daily" in body  # text around is escaped
    transfer = chart_notes["Transfer note"]
    link = re.search(rf'href="/notes/{transfer.pk}/\?start=(\d+)&amp;end=(\d+)#cited"', body)
    assert link, "each passage links to its note at the passage"
    note_page = client.get(f"/notes/{transfer.pk}/?start={link[1]}&end={link[2]}").content.decode()
    assert '<mark id="cited">' in note_page and "The passage your search found is highlighted." in note_page
    event = AuditEvent.objects.get(action="chart_search")
    assert (event.actor_id, event.patient_id) == (clinician.pk, ward["p1"].pk)
    assert "furosemide" not in event.reason.lower() and "weights" not in event.reason
    assert "furosemide" not in caplog.text.lower()  # never the words in the logs


def test_chart_search_finds_nothing_in_another_chart(clinician, ward, chart_notes, client):
    """Ruth's notes mention furosemide; Olu's chart (same unit) has none."""
    from clinsum.charts.indexing import notes_index

    notes_index(note_ids=[n.pk for n in chart_notes.values()])
    client.force_login(clinician)
    body = client.post(reverse("chart_search", args=[ward["p2"].pk]), {"q": "furosemide"}).content.decode()
    assert "0 passages found" in body and "<mark>" not in body


def test_the_stay_timeline_lists_only_what_the_notes_record(clinician, ward, chart_notes, client):
    client.force_login(clinician)
    body = client.get(reverse("chart_detail", args=[ward["p1"].pk])).content.decode()
    timeline = body[body.index('id="timeline-heading"') : body.index('id="notes-panel"')]
    kinds = re.findall(r"<strong>([^<]+)</strong>", timeline)
    assert kinds == ["Admission", "Procedure", "Transfer", "Discharge"]
    assert note_links(timeline) == [
        chart_notes[key].pk for key in ("History and Physical", "Paracentesis", "Transfer note", "Discharge Summary")
    ]
    assert "Post-procedure" not in timeline  # a word in passing is not an event


def test_the_pending_badge_is_explained_and_goes_after_indexing(clinician, ward, chart_notes, client):
    from clinsum.charts.indexing import notes_index

    client.force_login(clinician)
    url = reverse("chart_detail", args=[ward["p1"].pk])
    body = client.get(url).content.decode()
    assert body.count('title="Not yet searchable; summaries index it first">Pending</span>') == 6
    assert "Pending: not yet searchable; summaries index it first" in body
    notes_index(note_ids=[n.pk for n in chart_notes.values()])
    body = client.get(url).content.decode()
    assert "Pending" not in body


# --- The ward list -----------------------------------------------------------------------------


def test_the_ward_list_shows_age_admission_and_a_fresh_summary(clinician, ward, chart_notes, client, settings):
    from datetime import date

    from clinsum.charts.services import notes_ingest
    from clinsum.summaries.models import Summary
    from clinsum.summaries.selectors import summary_is_stale
    from clinsum.summaries.services import summary_fingerprint

    settings.SUMMARY_BACKEND = "extractive"
    ruth = ward["p1"]
    ruth.birth_date = date(1950, 12, 31)
    ruth.save()
    summary = Summary.objects.create(
        patient=ruth, backend="extractive", status="done", fingerprint=summary_fingerprint(patient_id=ruth.pk)
    )
    Summary.objects.create(patient=ward["p2"], backend="extractive", status="done", fingerprint="an older chart")
    client.force_login(clinician)

    def row(patient) -> str:
        body = client.get(reverse("patient_list")).content.decode()
        return re.search(rf"<tr><td><a href=\"/patients/{patient.pk}/\">.*?</tr>", body, re.S)[0]

    today = timezone.localdate()
    age = today.year - 1950 - ((today.month, today.day) < (12, 31))
    ruth_row = row(ruth)
    assert f"<td>{age}</td>" in ruth_row and "<td>4W</td>" in ruth_row
    assert (
        chart_notes["History and Physical"].authored_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d")
        in ruth_row
    )
    assert "Up to date" in ruth_row and not summary_is_stale(summary=summary)
    olu_row = row(ward["p2"])
    assert "None current" in olu_row and "no H&amp;P" in olu_row and "<td>—</td>" in olu_row  # no birth date

    notes_ingest(notes=[note_record("T-001", "A new note since the summary.")], enqueue=False)
    assert "None current" in row(ruth) and summary_is_stale(summary=summary)


def test_the_chart_says_which_notes_are_not_indexed(clinician, ward, notes, client):
    from clinsum.charts.models import EmbeddingStatus, Note

    Note.objects.filter(pk=notes["T-001"].pk).update(embedding_status=EmbeddingStatus.FAILED)
    client.force_login(clinician)
    body = client.get(reverse("chart_detail", args=[ward["p1"].pk])).content.decode()
    assert "Not indexed: embedding failed" in body and ">Failed<" not in body
    Note.objects.filter(pk=notes["T-001"].pk).update(embedding_status=EmbeddingStatus.PENDING)
    body = client.get(reverse("chart_detail", args=[ward["p1"].pk])).content.decode()
    assert "Not indexed: embedding failed" not in body and '<span class="badge">Pending</span>' in body


# The privacy officers' "Who accessed a patient" page (issue 17): the patient is named as on the
# audit search, by exact MRN or by family name and birth date, and shown by name and MRN.


@pytest.fixture
def accessed(ward, clinician, nurse):
    """Ruth Ashford (T-001, born 1950-02-03) opened by alice and nina; Olu Brennan (T-002) by alice."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from clinsum.charts.models import Patient
    from tests.audit.conftest import append_event

    ny = ZoneInfo("America/New_York")
    Patient.objects.filter(pk=ward["p1"].pk).update(birth_date=date(1950, 2, 3))
    append_event(at=datetime(2026, 3, 9, 9, 0, tzinfo=ny), actor=clinician, patient_id=ward["p1"].pk)
    append_event(at=datetime(2026, 3, 9, 10, 0, tzinfo=ny), actor=nurse, patient_id=ward["p1"].pk, action="note_view")
    append_event(at=datetime(2026, 3, 9, 11, 0, tzinfo=ny), actor=clinician, patient_id=ward["p2"].pk)


def accessors(response) -> list[str]:
    return [r["actor_username"] for r in response.context["rows"]]


@pytest.mark.parametrize(
    "query", [{"patient": "t-001"}, {"family_name": " ashford ", "birth_date": "1950-02-03"}], ids=["mrn", "name"]
)
def test_patient_access_by_mrn_or_name_and_birth_date_shows_who_it_is(privacy_officer, ward, accessed, query):
    response = login_verified(Client(), privacy_officer).get(reverse("audit_patient_access"), query)
    assert response.status_code == 200 and sorted(accessors(response)) == ["alice", "nina"]
    shown = re.search(r'<p id="accessed-patient">(.*?)</p>', response.content.decode()).group(1)
    assert "Ashford, Ruth" in shown and "MRN T-001" in shown and "born 1950-02-03" in shown
    row = AuditEvent.objects.get(action="audit_view", object_id="patient_access")
    assert row.patient_id == ward["p1"].pk and f"patients={ward['p1'].pk}" in row.reason
    assert "T-001" not in row.reason.upper() and "ashford" not in row.reason.lower() and "1950" not in row.reason


def test_patient_access_by_id_still_works_and_names_the_patient(privacy_officer, ward, accessed):
    response = login_verified(Client(), privacy_officer).get(
        reverse("audit_patient_access"), {"patient": ward["p2"].pk}
    )
    assert accessors(response) == ["alice"]
    assert "Brennan, Olu" in response.content.decode() and "MRN T-002" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"patient": "T-00"}, "No patient has this MRN"),  # never a partial match
        ({"family_name": "Ash", "birth_date": "1950-02-03"}, "No patient has this family name and birth date"),
        ({"family_name": "Ashford"}, "Give the birth date with the family name"),
        ({"patient": ""}, "Give the patient&#x27;s exact MRN"),
    ],
)
def test_patient_access_for_no_exact_patient_shows_nothing_and_says_why(
    privacy_officer, ward, accessed, query, message
):
    response = login_verified(Client(), privacy_officer).get(reverse("audit_patient_access"), query)
    assert response.status_code == 200 and response.context["rows"] is None
    assert message in response.content.decode()


def test_patient_access_lets_the_officer_choose_between_namesakes(privacy_officer, ward, accessed):
    from datetime import date

    from clinsum.charts.models import Patient

    twin = Patient.objects.create(
        mrn="T-777", family_name="Ashford", given_name="Rose", birth_date=date(1950, 2, 3), unit="4W"
    )
    client = login_verified(Client(), privacy_officer)
    response = client.get(reverse("audit_patient_access"), {"family_name": "Ashford", "birth_date": "1950-02-03"})
    assert response.context["rows"] is None
    choices = re.search(r'<ul id="patient-choices">(.*?)</ul>', response.content.decode(), re.S).group(1)
    assert "Ashford, Ruth" in choices and "Ashford, Rose" in choices and "MRN T-777" in choices
    assert f"?patient={twin.pk}" in choices
    assert accessors(client.get(reverse("audit_patient_access"), {"patient": twin.pk})) == []
