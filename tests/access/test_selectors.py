import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from clinsum.access.selectors import patient_list_for_user
from clinsum.audit.models import AuditEvent
from clinsum.charts.services import notes_ingest
from tests.conftest import note_record


@pytest.fixture
def notes(ward):
    notes_ingest(notes=[note_record("T-001", "Ruth note. Afebrile."), note_record("T-003", "ICU note. Intubated.")])
    return {n.patient.mrn: n for n in ward["p1"].notes.all() | ward["icu"].notes.all()}


def test_a_clinician_lists_only_patients_of_their_unit(clinician, ward):
    assert set(patient_list_for_user(user=clinician)) == {ward["p1"], ward["p2"]}


def test_care_team_membership_grants_a_chart_outside_the_unit(clinician, ward):
    from clinsum.access.models import CareTeamMember

    CareTeamMember.objects.create(patient=ward["icu"], user=clinician)
    assert ward["icu"] in set(patient_list_for_user(user=clinician))


@pytest.mark.parametrize("role_fixture", ["admin_user", "privacy_officer"])
def test_admins_and_privacy_officers_read_no_charts(request, role_fixture, ward, client):
    user = request.getfixturevalue(role_fixture)
    with pytest.raises(PermissionDenied):
        patient_list_for_user(user=user)
    client.force_login(user)
    assert client.get(reverse("chart_detail", args=[ward["p1"].pk])).status_code == 403
    assert client.get(reverse("patient_list")).status_code == 403


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


def test_a_note_view_shows_text_and_is_audited(clinician, notes, client):
    client.force_login(clinician)
    response = client.get(reverse("note_detail", args=[notes["T-001"].pk]))
    assert b"Ruth note. Afebrile." in response.content
    assert AuditEvent.objects.filter(action="note_view", object_id=str(notes["T-001"].pk)).count() == 1


def test_anonymous_users_are_sent_to_login(ward, client):
    response = client.get(reverse("chart_detail", args=[ward["p1"].pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_summary_create_rejects_get(clinician, ward, client):
    client.force_login(clinician)
    assert client.get(reverse("summary_create", args=[ward["p1"].pk])).status_code == 405
