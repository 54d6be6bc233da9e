"""clinsum/pages.py: the chart page, shown to who may read the chart and audited. (The other page
there, the privacy officers' patient-access page, is tested with the audit pages in
tests/audit/test_views.py.)"""

from django.test import Client
from django.urls import reverse

from clinsum.audit.models import AuditEvent
from tests.accounts.mfa import login_verified


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


def test_the_chart_says_which_notes_are_not_indexed(clinician, ward, notes, client):
    from clinsum.charts.models import EmbeddingStatus, Note

    Note.objects.filter(pk=notes["T-001"].pk).update(embedding_status=EmbeddingStatus.FAILED)
    client.force_login(clinician)
    body = client.get(reverse("chart_detail", args=[ward["p1"].pk])).content.decode()
    assert "Not indexed: embedding failed" in body and ">Failed<" not in body
    Note.objects.filter(pk=notes["T-001"].pk).update(embedding_status=EmbeddingStatus.PENDING)
    body = client.get(reverse("chart_detail", args=[ward["p1"].pk])).content.decode()
    assert "Not indexed: embedding failed" not in body and '<span class="badge">Pending</span>' in body
