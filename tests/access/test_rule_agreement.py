"""Every path that decides who reads which patient gives the same answer.

Hypothesis draws small hospitals: users of every role, active or deactivated, with or without a
unit; patients on units (one written "4w", to catch a case-insensitive match); care teams; and
break-glass grants that start and end around a fixed `now`, exactly at it included. For every
user and patient it compares, against the rule as written in clinsum/access/selectors.py
(`expected_reads` below, plain Python over the drawn data):

  - the ORM: readable_patients (PermissionDenied for roles that read no chart) and may_read;
  - the retrieval SQL: retrieval.search.patient_chunks, the query the summary and draft workers
    run, with the user's access_scope, against one chunk per patient in PostgreSQL;
  - the break-glass banner: break_glass_banner_grants lists exactly the patients the user reads
    through a grant alone, each with the grant in force that ends last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clinsum.access.models import BreakGlassGrant, CareTeamMember
from clinsum.access.selectors import access_scope, break_glass_banner_grants, may_read, readable_patients
from clinsum.accounts.models import User
from clinsum.charts.models import Chunk, Note, Patient
from retrieval.search import patient_chunks

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
UNITS = ["", "4W", "ICU", "5E"]
PATIENT_UNITS = ["", "4W", "4w", "ICU"]
# Chart readers drawn more often than the others, so most users have something to disagree about.
ROLES = ["clinician", "clinician", "nurse", "nurse", "admin", "privacy_officer", ""]
ACTIVE = [True, True, True, False]
# Grant start and end, in hours from NOW: 0 is exactly NOW (a grant starting now is in force,
# one ending now is not).
HOURS = st.integers(min_value=-2, max_value=2)


@dataclass(frozen=True)
class World:
    users: list[tuple[str, str, bool]]  # role, unit, active
    patients: list[str]  # unit
    care: set[tuple[int, int]]  # (user, patient)
    grants: list[tuple[int, int, int, int]]  # user, patient, start hour, end hour


@st.composite
def worlds(draw) -> World:
    users = draw(
        st.lists(
            st.tuples(st.sampled_from(ROLES), st.sampled_from(UNITS), st.sampled_from(ACTIVE)), min_size=1, max_size=5
        )
    )
    patients = draw(st.lists(st.sampled_from(PATIENT_UNITS), min_size=1, max_size=5))
    pair = st.tuples(st.integers(0, len(users) - 1), st.integers(0, len(patients) - 1))
    care = draw(st.sets(pair, max_size=4))
    grant = st.tuples(st.integers(0, len(users) - 1), st.integers(0, len(patients) - 1), HOURS, HOURS)
    grants = draw(st.lists(grant, max_size=8))
    return World(users=users, patients=patients, care=care, grants=grants)


def expected_reads(world: World, u: int, p: int) -> set[str]:
    """Which terms of the rule let user u read patient p (empty: u may not)."""
    role, unit, active = world.users[u]
    if not (active and role in ("clinician", "nurse")):
        return set()
    terms = set()
    if unit and unit == world.patients[p]:
        terms.add("unit")
    if (u, p) in world.care:
        terms.add("care team")
    if any(
        gu == u and gp == p and NOW + timedelta(hours=start) <= NOW < NOW + timedelta(hours=end)
        for gu, gp, start, end in world.grants
    ):
        terms.add("break-glass")
    return terms


def build(world: World) -> tuple[list[User], list[Patient]]:
    users = [
        User.objects.create(username=f"u{i}", role=role, unit=unit, is_active=active)
        for i, (role, unit, active) in enumerate(world.users)
    ]
    patients = []
    for i, unit in enumerate(world.patients):
        patient = Patient.objects.create(mrn=f"P-{i}", family_name=f"Patient{i}", unit=unit)
        note = Note.objects.create(patient=patient, text="Afebrile.", content_hash=f"h{i}", authored_at=NOW)
        Chunk.objects.create(note=note, patient=patient, ordinal=0, char_start=0, char_end=9, text="Afebrile.")
        patients.append(patient)
    for u, p in world.care:
        CareTeamMember.objects.create(user=users[u], patient=patients[p])
    for u, p, start, end in world.grants:
        BreakGlassGrant.objects.create(
            user=users[u],
            patient=patients[p],
            reason="Covering the ward overnight.",
            granted_at=NOW + timedelta(hours=start),
            expires_at=NOW + timedelta(hours=end),
        )
    return users, patients


def check(world: World) -> None:
    users, patients = build(world)
    for u, user in enumerate(users):
        expected = {patients[p].pk for p in range(len(patients)) if expected_reads(world, u, p)}
        try:
            orm = set(readable_patients(user=user, now=NOW).values_list("pk", flat=True))
        except PermissionDenied:
            assert not user.reads_charts()
            orm = set()
        assert orm == expected, f"ORM, user {u}"

        scope = access_scope(user=user, now=NOW)
        with connection.cursor() as cursor:
            sql = {
                patient.pk
                for patient in patients
                if patient_chunks(cursor, patient_id=patient.pk, scope=scope, limit=5)
            }
        assert sql == expected, f"retrieval SQL, user {u}"
        assert {p.pk for p in patients if may_read(user=user, patient_id=p.pk, now=NOW)} == expected, f"may_read {u}"

        banner = {grant.patient_id: grant.expires_at for grant in break_glass_banner_grants(user=user, now=NOW)}
        only_by_grant = {
            patients[p].pk: p for p in range(len(patients)) if expected_reads(world, u, p) == {"break-glass"}
        }
        assert set(banner) == set(only_by_grant), f"banner, user {u}"
        for patient_id, p in only_by_grant.items():
            last_end = max(
                NOW + timedelta(hours=end)
                for gu, gp, start, end in world.grants
                if gu == u and gp == p and start <= 0 < end
            )
            assert banner[patient_id] == last_end


@pytest.mark.django_db
@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
# The edges, always tried: a grant starting exactly now (in force) and one ending exactly now
# (not); a grant for a patient the unit or the care team covers already (no banner); the
# latest-ending of two grants on the banner; a unit written in another case; a deactivated
# clinician with a care team and a grant; an admin with a grant.
@example(
    world=World(
        users=[("clinician", "4W", True)],
        patients=["ICU", "ICU", "4W", "4w"],
        care={(0, 1)},
        grants=[(0, 0, 0, 1), (0, 1, -1, 2), (0, 2, -1, 2), (0, 3, -2, 0), (0, 0, -2, 2)],
    )
)
@example(
    world=World(
        users=[("nurse", "", False), ("admin", "ICU", True)],
        patients=["ICU"],
        care={(0, 0)},
        grants=[(0, 0, -1, 1), (1, 0, -1, 1)],
    )
)
def test_the_orm_the_retrieval_sql_and_the_banner_agree(world):
    with transaction.atomic():  # each drawn hospital is rolled back before the next
        check(world)
        transaction.set_rollback(True)


def test_a_logged_out_visitor_reads_nothing(db):
    from django.contrib.auth.models import AnonymousUser

    visitor = AnonymousUser()
    assert access_scope(user=visitor).units == () and access_scope(user=visitor).user_id is None
    assert not may_read(user=visitor, patient_id=1) and break_glass_banner_grants(user=visitor) == []
    with pytest.raises(PermissionDenied):
        readable_patients(user=visitor)
