"""A PostgreSQL outage (issue 16): the probes still answer, every page says the database cannot
be reached (503, Retry-After) instead of a bare 500, and the FHIR API answers an OperationOutcome.
The database is "down" by pointing the connection at a closed port for the request."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import connection
from django.test import Client

from tests.accounts.mfa import login_verified

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def database_down():
    connection.close()
    with mock.patch.dict(connection.settings_dict, {"HOST": "127.0.0.1", "PORT": "1"}):  # nothing listens
        try:
            yield
        finally:
            connection.close()


@pytest.fixture
def signed_in(clinician):
    # raise_request_exception=False: the answer is what a browser would get, not the exception
    client = Client(raise_request_exception=False)
    login_verified(client, clinician)
    assert client.cookies.get("sessionid")
    return client


def test_healthz_answers_200_with_a_session_cookie_and_the_database_down(signed_in):
    with database_down():
        response = signed_in.get("/healthz")
    assert response.status_code == 200, response.content[:300]
    assert response.json() == {"status": "ok"}


def test_readyz_names_the_database_with_a_session_cookie_and_the_database_down(signed_in):
    with database_down():
        response = signed_in.get("/readyz")
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["checks"]["database"] == "down: OperationalError"
    assert response.json()["status"] == "unavailable"


def test_a_page_says_the_database_cannot_be_reached_with_a_503(signed_in, caplog):
    with database_down(), caplog.at_level(logging.INFO):
        response = signed_in.get("/patients/?q=Quistgaardsen")
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "ClinSum cannot reach its database" in page
    assert "Traceback" not in page and "OperationalError" not in page and "127.0.0.1" not in page
    outage_logs = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(outage_logs) == 1 and not outage_logs[0].exc_info
    assert "Quistgaardsen" not in caplog.text and "Internal Server Error" not in caplog.text


def test_a_page_whose_view_meets_the_outage_gets_the_same_page(client):
    """No session: every middleware passes, the login view is the first to reach for the database."""
    client.raise_request_exception = False
    with database_down():
        response = client.post("/login/", {"username": "someone", "password": "not-their-password"})
    assert response.status_code == 503, response.content[:300]
    assert "ClinSum cannot reach its database" in response.content.decode()


def test_the_fhir_api_answers_an_operation_outcome_with_a_session_cookie(signed_in):
    with database_down():
        response = signed_in.post("/api/fhir/Bundle", data="{}", content_type="application/fhir+json")
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Retry-After"] == "30"
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "transient"


def test_after_the_outage_the_same_session_works_again(signed_in):
    with database_down():
        assert signed_in.get("/patients/").status_code == 503
    assert signed_in.get("/patients/").status_code == 200
