"""clinsum/charts/selectors.py: patient identity for the privacy officers' audit search. Exact
matches only, privacy officers only."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from clinsum.charts.models import Patient
from clinsum.charts.selectors import patient_identities_for_audit, patients_for_audit


@pytest.fixture
def born(ward):
    """Ruth Ashford (T-001) born 1950-02-03, and another Ashford born on another day."""
    Patient.objects.filter(pk=ward["p1"].pk).update(birth_date=date(1950, 2, 3))
    other = Patient.objects.create(mrn="T-009", family_name="Ashford", given_name="Ben", birth_date=date(1961, 5, 6))
    return {"ruth": ward["p1"], "ben": other}


def test_an_exact_mrn_finds_its_patient_in_any_case(privacy_officer, born):
    assert [p.pk for p in patients_for_audit(user=privacy_officer, mrn=" t-001 ")] == [born["ruth"].pk]


@pytest.mark.parametrize("mrn", ["T-00", "001", "T-0011", ""])
def test_a_partial_mrn_finds_nobody(privacy_officer, born, mrn):
    assert patients_for_audit(user=privacy_officer, mrn=mrn) == []


def test_family_name_and_birth_date_find_exactly_that_person(privacy_officer, born):
    found = patients_for_audit(user=privacy_officer, family_name="  ashford ", birth_date=date(1950, 2, 3))
    assert [p.pk for p in found] == [born["ruth"].pk]


@pytest.mark.parametrize(
    ("family_name", "birth_date"),
    [("Ashford", None), ("Ash", date(1950, 2, 3)), ("", date(1950, 2, 3)), ("Ashford", date(1950, 2, 4))],
)
def test_a_partial_name_or_a_name_without_its_birth_date_finds_nobody(privacy_officer, born, family_name, birth_date):
    assert patients_for_audit(user=privacy_officer, family_name=family_name, birth_date=birth_date) == []


def test_identities_are_given_for_the_ids_that_exist(privacy_officer, born):
    found = patient_identities_for_audit(user=privacy_officer, patient_ids=[born["ruth"].pk, None, 987654])
    assert list(found) == [born["ruth"].pk]
    assert (found[born["ruth"].pk].mrn, found[born["ruth"].pk].display_name) == ("T-001", "Ashford, Ruth")


@pytest.mark.parametrize("actor", ["clinician", "nurse", "admin_user", "outsider"])
def test_only_privacy_officers_read_identity_for_the_audit(request, born, actor):
    user = request.getfixturevalue(actor)
    with pytest.raises(PermissionDenied):
        patients_for_audit(user=user, mrn="T-001")
    with pytest.raises(PermissionDenied):
        patient_identities_for_audit(user=user, patient_ids=[born["ruth"].pk])
