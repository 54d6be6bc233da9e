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
