"""POST /api/fhir/Bundle: token auth, whole bundle or nothing, OperationOutcome answers, audit."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from clinsum.audit.models import AuditEvent
from clinsum.charts.models import Note, Patient, ServiceToken, service_token_hash
from clinsum.charts.services import service_token_create
from tests.charts.test_fhir import b64, bundle, document_resource, patient_resource

URL = "/api/fhir/Bundle"


@pytest.fixture
def token(db):
    row, value = service_token_create(name="interface-engine")
    return value


def post(client, body, *, token: str | None, content_type="application/fhir+json"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type, **headers)


def issues(response) -> list[dict]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"]


def test_the_route_is_named(db):
    assert reverse("fhir_bundle_create") == URL


def test_it_refuses_a_request_without_a_token_and_audits_it(client, db):
    response = post(client, bundle(patient_resource()), token=None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="clinsum"'
    assert issues(response)[0]["code"] == "login"
    event = AuditEvent.objects.get(action="ingest_api")
    assert (event.outcome, event.object_type, event.object_id) == ("denied", "service_token", "")
    assert Patient.objects.count() == 0


@pytest.mark.parametrize("presented", ["wrong-token", "inactive"])
def test_it_refuses_a_wrong_or_inactive_token(client, token, presented):
    if presented == "inactive":
        ServiceToken.objects.update(active=False)
        presented = token
    assert post(client, bundle(patient_resource()), token=presented).status_code == 401
    assert Patient.objects.count() == 0


def test_it_stores_a_bundle_and_answers_per_entry(client, token):
    data = bundle(
        patient_resource(),
        document_resource(),
        {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "x"}},
    )
    response = post(client, data, token=token)
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/fhir+json"
    body = response.json()
    assert (body["resourceType"], body["type"]) == ("Bundle", "transaction-response")
    patient, note, observation = [e["response"] for e in body["entry"]]
    stored = Note.objects.get()
    assert (patient["status"], patient["location"]) == ("201 Created", f"Patient/{stored.patient_id}")
    assert (note["status"], note["location"]) == ("201 Created", f"DocumentReference/{stored.pk}")
    assert observation["status"] == "200 OK"
    assert "not stored" in observation["outcome"]["issue"][0]["diagnostics"]
    assert stored.source_id == "doc-1" and stored.source == "api:interface-engine#entry[1]"
    event = AuditEvent.objects.get(action="ingest_api")
    row = ServiceToken.objects.get()
    assert (event.outcome, event.object_type, event.object_id) == ("ok", "service_token", str(row.pk))
    assert row.last_used_at is not None

    again = post(client, data, token=token).json()  # the same bundle again changes nothing
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK", "200 OK", "200 OK"]
    assert "unchanged" in again["entry"][1]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert Note.objects.count() == 1


def test_an_amendment_is_answered_as_such(client, token):
    post(client, bundle(patient_resource(), document_resource(text="Na 131.")), token=token)
    response = post(client, bundle(patient_resource(), document_resource(text="Na 135 after correction.")), token=token)
    note = response.json()["entry"][1]["response"]
    assert note["status"] == "200 OK" and note["outcome"]["issue"][0]["diagnostics"].startswith("amended")
    assert Note.objects.get().text == "Na 135 after correction."


def test_a_bad_entry_rejects_the_whole_bundle(client, token):
    data = bundle(patient_resource(), document_resource(), document_resource(did="doc-2", subject=None))
    response = post(client, data, token=token)
    assert response.status_code == 400
    assert issues(response) == [
        {
            "severity": "error",
            "code": "invalid",
            "diagnostics": "DocumentReference has no subject (the patient)",
            "expression": ["Bundle.entry[2]"],
        }
    ]
    assert Patient.objects.count() == 0 and Note.objects.count() == 0
    assert AuditEvent.objects.get(action="ingest_api").outcome == "rejected"


def test_a_chart_conflict_rejects_the_whole_bundle(client, token):
    post(client, bundle(patient_resource()), token=token)
    data = bundle(patient_resource(family="Someone-Else"), document_resource())
    response = post(client, data, token=token)
    assert response.status_code == 422
    assert issues(response) == [
        {
            "severity": "error",
            "code": "business-rule",
            "diagnostics": "patient MRN-100: family name differ from the stored record",
            "expression": ["Bundle.entry[0]"],
        }
    ]
    assert Note.objects.count() == 0


@pytest.mark.parametrize(
    "body, expected",
    [
        (b"{not json", "invalid JSON in the document"),
        (json.dumps(patient_resource()), "expected a Bundle, got resourceType 'Patient'"),
        (json.dumps(document_resource()), "expected a Bundle, got resourceType 'DocumentReference'"),
    ],
)
def test_it_says_what_is_wrong_with_a_malformed_body(client, token, body, expected):
    response = post(client, body, token=token)
    assert response.status_code == 400
    assert issues(response)[0]["diagnostics"].startswith(expected)


def test_it_refuses_another_content_type(client, token):
    response = post(client, "<Bundle/>", token=token, content_type="application/fhir+xml")
    assert response.status_code == 415


def test_a_body_over_the_limit_is_refused_before_parsing(client, token):
    data = bundle(patient_resource(), document_resource(data="A" * (50 * 1024 * 1024)))
    with mock.patch("clinsum.charts.api.fhir_json_parse", side_effect=AssertionError("parsed")):
        response = post(client, data, token=token)
    assert response.status_code == 413
    assert issues(response)[0]["code"] == "too-costly"
    assert "the limit is 20,971,520" in issues(response)[0]["diagnostics"]


def test_a_note_over_the_character_limit_is_refused(client, token, settings):
    settings.NOTE_MAX_CHARS = 50
    response = post(client, bundle(patient_resource(), document_resource(text="y" * 51)), token=token)
    assert response.status_code == 422
    assert issues(response)[0]["diagnostics"] == "note has 51 characters; the limit is 50"


def test_script_tags_are_stripped_and_reported(client, token):
    doc = document_resource(data=b64("<p>Afebrile.</p><script>alert('x')</script>"), content_type="text/html")
    response = post(client, bundle(patient_resource(), doc), token=token)
    assert response.status_code == 201
    warning = response.json()["entry"][1]["response"]["outcome"]["issue"][1]
    assert warning["severity"] == "warning" and "removed 1 <script>" in warning["diagnostics"]
    assert Note.objects.get().text == "Afebrile."


def test_it_needs_no_csrf_token_and_sets_no_session(token):
    client = Client(enforce_csrf_checks=True)
    response = post(client, bundle(patient_resource()), token=token)
    assert response.status_code == 201
    assert "sessionid" not in response.cookies


def test_it_rejects_get(client, token):
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 405


def test_if_the_audit_write_fails_nothing_is_stored(client, token):
    with mock.patch("clinsum.charts.api.audit_record", side_effect=RuntimeError("audit down")):
        response = post(client, bundle(patient_resource(), document_resource()), token=token)
    assert response.status_code == 500  # an OperationOutcome, not Django's HTML error page
    assert issues(response)[0]["code"] == "exception"
    assert Patient.objects.count() == 0 and Note.objects.count() == 0


def test_the_create_command_prints_the_token_once_and_stores_its_hash(db, capsys):
    call_command("service_token_create", "lab-feed")
    value = capsys.readouterr().out.strip()
    row = ServiceToken.objects.get(name="lab-feed")
    assert row.token_hash == service_token_hash(value) and value not in row.token_hash
    assert len(value) >= 40


def _with(resource: dict, path: tuple, value) -> dict:
    """A copy of the resource with resource[path...] = value."""
    resource = json.loads(json.dumps(resource))
    target = resource
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return resource


MALFORMED_BUNDLES = {
    "nul-identifier": (bundle(_with(patient_resource(), ("identifier", 1, "value"), "MRN\x00-1")), 0, "NUL"),
    "nul-family": (bundle(_with(patient_resource(), ("name", 0, "family"), "Oka\x00for")), 0, "NUL"),
    "nul-type-text": (
        bundle(patient_resource(), _with(document_resource(), ("type", "text"), "Progress\x00")),
        1,
        "title contains a NUL byte",
    ),
    "nul-author": (
        bundle(patient_resource(), _with(document_resource(), ("author", 0, "display"), "Dr\x00X")),
        1,
        "author contains a NUL byte",
    ),
    "long-author": (
        bundle(patient_resource(), _with(document_resource(), ("author", 0, "display"), "a" * 201)),
        1,
        "author has 201 characters",
    ),
    "long-family": (
        bundle(_with(patient_resource(), ("name", 0, "family"), "F" * 129)),
        0,
        "family_name has 129 characters; the limit is 128",
    ),
    "far-future": (bundle(patient_resource(), document_resource(date="9999-12-31T23:00:00-05:00")), 1, "outside"),
    "year-one": (bundle(patient_resource(), document_resource(date="0001-01-01T00:00:00+01:00")), 1, "outside"),
    "birth-year-one": (bundle(patient_resource(birth="0001-01-01")), 0, "birth_date is outside"),
    "birth-future": (bundle(patient_resource(birth="2999-01-01")), 0, "birth_date is outside"),
}


@pytest.mark.parametrize(("body", "entry", "expected"), MALFORMED_BUNDLES.values(), ids=MALFORMED_BUNDLES.keys())
def test_a_malformed_field_is_a_400_outcome_naming_the_entry(client, token, body, entry, expected):
    response = post(client, body, token=token)
    assert response.status_code == 400
    found = issues(response)
    assert any(i["expression"] == [f"Bundle.entry[{entry}]"] and expected in i["diagnostics"] for i in found), found
    assert Patient.objects.count() == 0 and Note.objects.count() == 0


def test_a_deeply_nested_bundle_is_a_400_outcome(client, token):
    response = post(client, '{"resourceType": "Bundle", "entry": ' + "[" * 100_000, token=token)
    assert response.status_code == 400
    assert "nested more than 64 levels deep" in issues(response)[0]["diagnostics"]


@pytest.mark.django_db(transaction=True)
def test_with_the_database_down_the_answer_is_a_503_outcome(client):
    from django.db import connection

    _, value = service_token_create(name="interface-engine")
    connection.close()
    with mock.patch.dict(connection.settings_dict, {"HOST": "127.0.0.1", "PORT": "1"}):
        response = post(client, bundle(patient_resource(), document_resource()), token=value)
        connection.close()
    assert response.status_code == 503
    assert response["Content-Type"] == "application/fhir+json"
    assert issues(response)[0]["code"] == "transient"
    assert Patient.objects.count() == 0
