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
