"""Who may change a note: a service token amends only the notes it created, a signed ClinSum
draft is never amended from outside, every replaced text is kept, FHIR writes are audited with
the patient and note ids, and identical posts at once never answer 500 (issue 14, High 1)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from clinsum.audit.models import AuditEvent
from clinsum.charts.models import NOTE_ORIGIN_DRAFT, Note, NoteVersion, Patient
from clinsum.charts.records import NoteRecord
from clinsum.charts.services import notes_ingest, service_token_create
from tests.charts.test_api import issues, post
from tests.charts.test_fhir import bundle, document_resource, patient_resource


@pytest.fixture
def tokens(db):
    return service_token_create(name="lab-system")[1], service_token_create(name="interface-engine")[1]


def test_a_token_amends_its_own_note_and_the_old_text_is_kept(client, tokens):
    mine, _ = tokens
    post(client, bundle(patient_resource(), document_resource(text="Na 131.")), token=mine)
    response = post(client, bundle(patient_resource(), document_resource(text="Na 135 after correction.")), token=mine)
    assert response.status_code == 201
    note = Note.objects.get()
    assert note.text == "Na 135 after correction." and note.origin == "api:lab-system"
    [version] = NoteVersion.objects.filter(note=note)
    assert version.text == "Na 131." and version.replaced_by == "api:lab-system"


def test_another_token_may_not_amend_a_note_it_did_not_create(client, tokens):
    mine, theirs = tokens
    post(client, bundle(patient_resource(), document_resource(text="Na 131.")), token=mine)
    response = post(
        client, bundle(patient_resource(), document_resource(text="Discontinue all anticoagulation.")), token=theirs
    )
    assert response.status_code == 403
    assert issues(response)[0]["code"] == "forbidden"
    assert Note.objects.get().text == "Na 131." and not NoteVersion.objects.exists()
    assert AuditEvent.objects.filter(action="ingest_api", outcome="denied").exists()


def test_a_signed_draft_is_never_amended_from_outside(client, tokens):
    mine, _ = tokens
    post(client, bundle(patient_resource()), token=mine)
    patient = Patient.objects.get()
    notes_ingest(
        notes=[
            NoteRecord(
                mrn=patient.mrn,
                note_type="nursing",
                authored_at=patient.created_at,
                text="SBAR. Continue heparin drip per protocol. Signed by N. Nurse.",
                source_id="clinsum-draft-7",
            )
        ],
        origin=NOTE_ORIGIN_DRAFT,
        enqueue=False,
    )
    forged = document_resource(did="clinsum-draft-7", text="Discontinue all anticoagulation. Signed by N. Nurse.")
    response = post(client, bundle(patient_resource(), forged), token=mine)
    assert response.status_code == 403
    assert "signed ClinSum draft" in issues(response)[0]["diagnostics"]
    assert Note.objects.get(source_id="clinsum-draft-7").text.startswith("SBAR. Continue heparin")


def test_fhir_writes_are_audited_with_the_patient_and_the_note_ids(client, tokens):
    mine, _ = tokens
    post(client, bundle(patient_resource(), document_resource()), token=mine)
    note = Note.objects.get()
    event = AuditEvent.objects.get(action="ingest_api", outcome="ok")
    assert event.patient_id == note.patient_id and f"note ids {note.pk}" in event.reason


def test_the_note_page_shows_earlier_versions(client, tokens, make_user):
    mine, _ = tokens
    post(client, bundle(patient_resource(), document_resource(text="Na 131.")), token=mine)
    post(client, bundle(patient_resource(), document_resource(text="Na 135 after correction.")), token=mine)
    note = Note.objects.get()
    Patient.objects.filter(pk=note.patient_id).update(unit="4W")
    reader = Client()
    reader.force_login(make_user("carla", "clinician", "4W"))
    page = reader.get(f"/notes/{note.pk}/").content.decode()
    assert "Amended 1 time" in page and "Na 131." in page and "Na 135 after correction." in page


@pytest.mark.django_db(transaction=True)
def test_identical_posts_at_once_store_one_note_and_never_answer_500(tokens):
    mine, _ = tokens
    data = bundle(patient_resource(), document_resource())
    statuses: list[int] = []

    def send():
        try:
            statuses.append(post(Client(), data, token=mine).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) in ([201], [201, 409]) and 500 not in statuses, statuses
    assert Note.objects.count() == 1


def test_pages_of_a_signed_in_user_are_never_cached(make_user, db):
    patient = Patient.objects.create(mrn="MRN-900", family_name="Stone", given_name="Lee", unit="4W")
    reader = Client()
    reader.force_login(make_user("erin", "clinician", "4W"))
    for url in ("/patients/", f"/patients/{patient.pk}/", "/"):
        response = reader.get(url, follow=True)
        assert response["Cache-Control"] == "no-store" and response["Pragma"] == "no-cache", url
