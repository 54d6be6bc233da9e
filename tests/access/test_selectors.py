"""access/selectors.py: who reads which chart (the unit, the care team, a break-glass grant), in the
ORM and in the retrieval scope. The same rule against random hospitals: test_rule_agreement.py."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from clinsum.access.selectors import access_scope, patient_list_for_user
from clinsum.charts.models import Chunk
from retrieval.search import patient_text_search

from .conftest import break_glass


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


def test_grants_enter_the_selectors_and_the_retrieval_scope(alice, clinician, ward, notes):
    note = notes["icu"]
    Chunk.objects.create(
        note=note, patient=ward["icu"], ordinal=0, char_start=0, char_end=len(note.text), text=note.text
    )

    def search():
        with connection.cursor() as cursor:
            return patient_text_search(
                cursor, patient_id=ward["icu"].pk, query_text="intubated", k=5, scope=access_scope(user=clinician)
            )

    assert ward["icu"] not in set(patient_list_for_user(user=clinician))
    assert access_scope(user=clinician).patient_ids == ()
    assert search() == []
    break_glass(alice, ward["icu"])
    assert ward["icu"] in set(patient_list_for_user(user=clinician))
    assert access_scope(user=clinician).patient_ids == (ward["icu"].pk,)
    assert [hit.note_id for hit in search()] == [note.pk]


# --- Hospital-wide lookup (patient_lookup, patient_identity_for_break_glass), issue 17 ------------


def test_a_lookup_finds_any_unit_by_exact_mrn_and_marks_the_scope(clinician, ward):
    from clinsum.access.selectors import patient_lookup

    matches, more = patient_lookup(user=clinician, mrn=" t-003 ")
    assert [(m.patient.pk, m.in_scope) for m in matches] == [(ward["icu"].pk, False)] and not more
    matches, _ = patient_lookup(user=clinician, mrn="T-001")
    assert [(m.patient.pk, m.in_scope) for m in matches] == [(ward["p1"].pk, True)]


@pytest.mark.parametrize("mrn", ["T-00", "T", "003", "%", "T-00_"])
def test_a_lookup_never_matches_part_of_an_mrn(clinician, ward, mrn):
    from clinsum.access.selectors import patient_lookup

    assert patient_lookup(user=clinician, mrn=mrn) == ([], False)


def test_a_lookup_by_name_needs_the_whole_family_name_and_the_birth_date(clinician, ward):
    from datetime import date

    from clinsum.access.selectors import patient_lookup

    ward["icu"].birth_date = date(1960, 2, 29)
    ward["icu"].save()
    found, _ = patient_lookup(user=clinician, family_name="  castillo ", birth_date=date(1960, 2, 29))
    assert [m.patient.pk for m in found] == [ward["icu"].pk]
    assert patient_lookup(user=clinician, family_name="Castil", birth_date=date(1960, 2, 29)) == ([], False)
    assert patient_lookup(user=clinician, family_name="Castillo", birth_date=date(1960, 3, 1)) == ([], False)
    assert patient_lookup(user=clinician, family_name="Castillo") == ([], False)  # no browsing by name alone


def test_a_lookup_shows_at_most_five_and_says_more_matched(clinician, db):
    from datetime import date

    from clinsum.access.selectors import PATIENT_LOOKUP_MAX, patient_lookup
    from clinsum.charts.models import Patient

    for i in range(PATIENT_LOOKUP_MAX + 1):
        Patient.objects.create(mrn=f"TWIN-{i}", family_name="Smith", birth_date=date(1980, 1, 1), unit="ICU")
    matches, more = patient_lookup(user=clinician, family_name="smith", birth_date=date(1980, 1, 1))
    assert len(matches) == PATIENT_LOOKUP_MAX and more


@pytest.mark.parametrize("role_fixture", ["admin_user", "privacy_officer"])
def test_admins_and_privacy_officers_look_no_patient_up(request, role_fixture, ward):
    from clinsum.access.selectors import patient_identity_for_break_glass, patient_lookup

    user = request.getfixturevalue(role_fixture)
    with pytest.raises(PermissionDenied):
        patient_lookup(user=user, mrn="T-003")
    with pytest.raises(PermissionDenied):
        patient_identity_for_break_glass(user=user, patient_id=ward["icu"].pk)


def test_lookups_stop_after_the_hourly_limit_counted_from_the_audit_trail(clinician, nurse, ward):
    from clinsum.access.selectors import (
        IDENTITY_READS_PER_HOUR,
        LookupLimitReached,
        identity_reads_left,
        patient_identity_for_break_glass,
        patient_lookup,
    )
    from clinsum.audit.services import audit_record

    for _ in range(IDENTITY_READS_PER_HOUR):
        audit_record(action="patient_lookup", actor=clinician, patient_id=ward["icu"].pk)
    assert identity_reads_left(user=clinician) == 0
    with pytest.raises(LookupLimitReached):
        patient_lookup(user=clinician, mrn="T-003")
    with pytest.raises(LookupLimitReached):
        patient_identity_for_break_glass(user=clinician, patient_id=ward["icu"].pk)
    assert patient_lookup(user=nurse, mrn="T-003")[0]  # per user
    from datetime import timedelta

    from django.utils import timezone

    assert identity_reads_left(user=clinician, now=timezone.now() + timedelta(hours=1, seconds=1)) > 0


def test_note_date_filters_count_days_in_the_hospitals_time_zone(clinician, ward):
    """A note written 2026-11-18 03:00 UTC is 22:00 on the 17th in New York (the default zone)."""
    from datetime import UTC, date, datetime

    from clinsum.access.selectors import note_list_for_patient
    from clinsum.charts.models import Note

    note = Note.objects.create(
        patient=ward["p1"], text="Late note.", content_hash="late", authored_at=datetime(2026, 11, 18, 3, 0, tzinfo=UTC)
    )
    on_17th = note_list_for_patient(
        user=clinician, patient=ward["p1"], start=date(2026, 11, 17), end=date(2026, 11, 17)
    )
    assert list(on_17th) == [note]
    assert not note_list_for_patient(user=clinician, patient=ward["p1"], start=date(2026, 11, 18)).exists()


def test_chart_search_is_refused_outside_the_scope(clinician, ward, notes):
    from clinsum.access.selectors import note_search_for_patient
    from clinsum.access.services import break_glass_grant
    from clinsum.accounts.errors import PatientOutOfScope
    from clinsum.charts.indexing import notes_index

    notes_index(note_ids=[notes["icu"].pk])
    with pytest.raises(PatientOutOfScope):
        note_search_for_patient(user=clinician, patient=ward["icu"], query="intubated")
    break_glass_grant(user=clinician, patient_id=ward["icu"].pk, reason="Covering the ICU tonight, urgent review.")
    (hit,) = note_search_for_patient(user=clinician, patient=ward["icu"], query="intubated")
    assert hit.note_id == notes["icu"].pk and ("Intubated", True) in hit.extra["segments"]
