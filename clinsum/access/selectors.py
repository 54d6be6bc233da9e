"""Who may read which patient: the one access rule, and the reads of care teams and grants.

The rule. A user reads a patient's chart (its notes, summaries, drafts, and the chunks that
retrieval gives a summary or a draft) when

  - the user is logged in, active, and a clinician or a nurse (User.reads_charts). Admins,
    privacy officers, users without a role and deactivated accounts read no chart, whatever
    their unit, care teams or grants say; and
  - at least one of these holds:
    1. unit: the user has a unit and the patient is on that unit (the same ward code; an empty
       unit matches nothing, not even patients without a unit);
    2. care team: the user is on the patient's care team (a CareTeamMember row);
    3. break-glass: the user holds a grant for the patient that is in force now,
       granted_at <= now < expires_at. Grants are per user and patient, never shared.

`access_scope(user)` states the rule for one user as data (retrieval.types.AccessScope): the
unit of term 1, the user id of term 2 and the patients of term 3, or nothing at all. Every path
that decides access reads that one value:

  - the ORM: `readable_patients` filters Patient by it; the chart, summary and drafting
    selectors build on `readable_patients`, and `may_read` asks it about one patient;
  - the retrieval SQL: the summary and draft workers pass their requester's `access_scope` to
    retrieval/search.py, where retrieval.store.scope_sql puts the same three terms inside the
    statement;
  - the break-glass banner: `break_glass_banner_grants` is term 3 less what terms 1 and 2 cover.

tests/access/test_rule_agreement.py generates users of every role (deactivated ones too), units,
care teams and grants that start and end around a fixed `now`, and checks that all these paths
give the same answer for every user and patient.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import reduce

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from clinsum.accounts.errors import PatientOutOfScope
from clinsum.accounts.models import User
from clinsum.accounts.selectors import admin_check, privacy_officer_check
from clinsum.audit.models import AuditEvent
from clinsum.charts.models import Note, NoteType, Patient
from retrieval.search import patient_text_search_passages
from retrieval.types import AccessScope, Hit

from .models import BreakGlassGrant, CareTeamMember, ReviewOutcome

# --- The rule ------------------------------------------------------------------------------------


def _grants_in_force(*, user, now: datetime) -> QuerySet[BreakGlassGrant]:
    """Term 3 of the rule: the user's grants in force at `now`."""
    return BreakGlassGrant.objects.filter(user=user, granted_at__lte=now, expires_at__gt=now)


def access_scope(*, user, now: datetime | None = None) -> AccessScope:
    """The patients `user` may read, as data: what both the ORM and the retrieval SQL apply."""
    if not (user.is_authenticated and user.reads_charts()):
        return AccessScope()
    granted = (
        _grants_in_force(user=user, now=now or timezone.now())
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
        .distinct()
    )
    return AccessScope(units=(user.unit,) if user.unit else (), user_id=user.pk, patient_ids=tuple(granted))


def _patients_in(scope: AccessScope) -> QuerySet[Patient]:
    """The scope as an ORM filter on Patient; retrieval.store.scope_sql is its SQL twin."""
    if scope.unrestricted:
        return Patient.objects.all()
    terms = []
    if scope.units:
        terms.append(Q(unit__in=scope.units))
    if scope.user_id is not None:
        terms.append(Q(pk__in=CareTeamMember.objects.filter(user_id=scope.user_id).values("patient_id")))
    if scope.patient_ids:
        terms.append(Q(pk__in=scope.patient_ids))
    return Patient.objects.filter(reduce(operator.or_, terms)) if terms else Patient.objects.none()


def readable_patients(*, user, now: datetime | None = None) -> QuerySet[Patient]:
    """The patients `user` may read; PermissionDenied for a role that reads no chart."""
    if not (user.is_authenticated and user.reads_charts()):
        raise PermissionDenied("Your role does not read patient charts.")
    return _patients_in(access_scope(user=user, now=now))


def may_read(*, user, patient_id: int, now: datetime | None = None) -> bool:
    if not (user.is_authenticated and user.reads_charts()):
        return False
    return readable_patients(user=user, now=now).filter(pk=patient_id).exists()


def break_glass_banner_grants(*, user, now: datetime | None = None) -> list[BreakGlassGrant]:
    """The grants in force for patients the user reads only through break-glass (the chart
    banner): one per patient, the grant that ends last."""
    now = now or timezone.now()
    scope = access_scope(user=user, now=now)
    if not scope.patient_ids:
        return []
    standing = _patients_in(replace(scope, patient_ids=()))  # terms 1 and 2
    grants = (
        _grants_in_force(user=user, now=now)
        .exclude(patient__in=standing)
        .only("id", "patient_id", "expires_at")
        .order_by("expires_at", "id")
    )
    latest: dict[int, BreakGlassGrant] = {}
    for grant in grants:
        latest[grant.patient_id] = grant
    return list(latest.values())


def break_glass_needed(*, user, patient_id: int) -> bool:
    """Whether `user` must break the glass to open this chart (False: it is in their scope).
    PermissionDenied for a role that reads no chart, Http404 for no such patient."""
    if not (user.is_authenticated and user.reads_charts()):
        raise PermissionDenied("Only clinicians and nurses can use break-glass access.")
    if not Patient.objects.filter(pk=patient_id).exists():
        raise Http404("No such patient.")
    return not may_read(user=user, patient_id=patient_id)


# --- Patients and notes as a user may read them --------------------------------------------------


def patient_list_for_user(*, user: User, query: str = "") -> QuerySet[Patient]:
    """The patients `user` may read (optionally matching a name or an exact MRN), each with
    `admitted_at`: the time of their latest history and physical (None without one), the
    admission as the notes record it."""
    patients = readable_patients(user=user).annotate(
        admitted_at=Max("notes__authored_at", filter=Q(notes__note_type=NoteType.HISTORY_PHYSICAL))
    )
    query = query.strip()
    if query:
        patients = patients.filter(
            Q(mrn__iexact=query) | Q(family_name__icontains=query) | Q(given_name__icontains=query)
        )
    return patients.order_by("family_name", "given_name", "mrn")


def patient_get_for_user(*, user: User, patient_id: int) -> Patient:
    """The patient, or PermissionDenied/Http404. Out-of-scope and non-existent look the same
    to roles without chart access; chart readers get 403 for an existing out-of-scope chart."""
    patient = readable_patients(user=user).filter(pk=patient_id).first()
    if patient is None:
        if Patient.objects.filter(pk=patient_id).exists():
            raise PatientOutOfScope(patient_id)  # the 403 page offers break-glass
        raise Http404("No such patient.")
    return patient


def note_list_for_patient(
    *,
    user: User,
    patient: Patient,
    note_type: str = "",
    author: str = "",
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[Note]:
    """The patient's notes, newest first, optionally of one type, by one author, and written
    between two days (inclusive, days in the hospital's time zone)."""
    patient_get_for_user(user=user, patient_id=patient.pk)
    notes = Note.objects.filter(patient=patient)
    if note_type:
        notes = notes.filter(note_type=note_type)
    if author:
        notes = notes.filter(author=author)
    if start:
        notes = notes.filter(authored_at__date__gte=start)
    if end:
        notes = notes.filter(authored_at__date__lte=end)
    return notes.defer("text").order_by("-authored_at", "-id")


def note_authors_for_patient(*, user: User, patient: Patient) -> list[str]:
    """The authors of the patient's notes, for the chart's author filter."""
    patient_get_for_user(user=user, patient_id=patient.pk)
    return list(
        Note.objects.filter(patient=patient)
        .exclude(author="")
        .order_by("author")
        .values_list("author", flat=True)
        .distinct()
    )


NOTE_SEARCH_MAX = 20  # passages shown for one search within a chart


def note_search_for_patient(*, user: User, patient: Patient, query: str, limit: int = NOTE_SEARCH_MAX) -> list[Hit]:
    """Passages of the patient's indexed notes matching the words of `query` (full text), best
    first, each with its matching words marked (Hit.extra["segments"]). The user's access scope
    is a predicate inside the retrieval statement, as for summaries; notes not yet indexed are
    not searchable."""
    patient_get_for_user(user=user, patient_id=patient.pk)
    if not query.strip():
        return []
    with connection.cursor() as cursor:
        return patient_text_search_passages(
            cursor, patient_id=patient.pk, query_text=query, k=limit, scope=access_scope(user=user)
        )


def note_get_for_user(*, user: User, note_id: int) -> Note:
    note = Note.objects.filter(pk=note_id).only("id", "patient_id").first()
    if note is None:
        raise Http404("No such note.")
    patient = patient_get_for_user(user=user, patient_id=note.patient_id)
    return Note.objects.select_related("patient").get(pk=note_id, patient=patient)


# --- Hospital-wide lookup: one patient's identity, to confirm before break-glass ---------------
#
# A clinician or nurse may look a patient up outside their scope by exact MRN, or by exact
# family name plus birth date: never a partial match, never a browsable list. What comes back is
# identity only (name, MRN, birth date, sex, unit). Every lookup, and every page that shows an
# out-of-scope patient's identity (the 403 page, the break-glass form), is an audit event of
# IDENTITY_ACTIONS; those events are also the rate limit, so it holds across web workers.

PATIENT_LOOKUP_MAX = 5  # matches shown; more means "use the MRN"
IDENTITY_READS_PER_HOUR = 30  # lookups plus identity shown, per user, in any hour
IDENTITY_ACTIONS = ("patient_lookup", "patient_identity_view")
IDENTITY_FIELDS = ("id", "mrn", "family_name", "given_name", "birth_date", "sex", "unit")


class LookupLimitReached(Exception):
    """The user looked up or was shown IDENTITY_READS_PER_HOUR identities in the last hour."""


@dataclass(frozen=True)
class LookupMatch:
    patient: Patient
    in_scope: bool


def chart_reader_check(*, user) -> None:
    if not (user.is_authenticated and user.reads_charts()):
        raise PermissionDenied("Only clinicians and nurses look patients up.")


def identity_reads_left(*, user, now: datetime | None = None) -> int:
    """How many more lookups or identity displays the user has in the current hour."""
    since = (now or timezone.now()) - timedelta(hours=1)
    used = AuditEvent.objects.filter(actor_id=user.pk, action__in=IDENTITY_ACTIONS, at__gte=since).count()
    return max(0, IDENTITY_READS_PER_HOUR - used)


def patient_lookup(
    *, user: User, mrn: str = "", family_name: str = "", birth_date: date | None = None
) -> tuple[list[LookupMatch], bool]:
    """Patients anywhere in the hospital with exactly this MRN, or exactly this family name
    (case-insensitive) and birth date: at most PATIENT_LOOKUP_MAX, each marked in or out of the
    user's scope, and whether more matched. The caller audits the lookup (patient_lookup)."""
    chart_reader_check(user=user)
    if not identity_reads_left(user=user):
        raise LookupLimitReached
    mrn, family_name = mrn.strip(), " ".join(family_name.split())
    if mrn:
        found = Patient.objects.filter(mrn__iexact=mrn)
    elif family_name and birth_date is not None:
        found = Patient.objects.filter(family_name__iexact=family_name, birth_date=birth_date)
    else:
        return [], False
    rows = list(found.only(*IDENTITY_FIELDS).order_by("family_name", "given_name", "mrn")[: PATIENT_LOOKUP_MAX + 1])
    more, rows = len(rows) > PATIENT_LOOKUP_MAX, rows[:PATIENT_LOOKUP_MAX]
    readable = set(readable_patients(user=user).filter(pk__in=[p.pk for p in rows]).values_list("pk", flat=True))
    return [LookupMatch(patient=p, in_scope=p.pk in readable) for p in rows], more


def patient_identity_for_break_glass(*, user: User, patient_id: int) -> Patient:
    """Name, MRN, birth date, sex and unit of a patient outside the user's scope, so the user
    can confirm the person before breaking the glass. PermissionDenied for a role that reads no
    chart, Http404 for no such patient, LookupLimitReached past the hourly limit. The caller
    audits the display (patient_identity_view)."""
    chart_reader_check(user=user)
    patient = Patient.objects.filter(pk=patient_id).only(*IDENTITY_FIELDS).first()
    if patient is None:
        raise Http404("No such patient.")
    if not identity_reads_left(user=user):
        raise LookupLimitReached
    return patient


# --- Care teams (the admin console: patient ids and units, never identity) -----------------------


def patient_for_admin(*, user: User, patient_id: int) -> Patient:
    """Id and unit only: an administrator manages care teams without seeing who the patient is."""
    admin_check(user=user)
    patient = Patient.objects.filter(pk=patient_id).only("id", "unit").first()
    if patient is None:
        raise Http404("No such patient.")
    return patient


def patient_units_for_admin(*, user: User) -> list[str]:
    admin_check(user=user)
    return list(Patient.objects.exclude(unit="").order_by("unit").values_list("unit", flat=True).distinct())


def patients_on_unit_for_admin(*, user: User, unit: str) -> list[dict]:
    """Patient ids on a unit with their care-team size, in id order; no identity."""
    admin_check(user=user)
    return list(
        Patient.objects.filter(unit=unit)
        .order_by("id")
        .annotate(members=Count("care_team"))
        .values("id", "unit", "members")
    )


def care_team_for_admin(*, user: User, patient_id: int) -> QuerySet[User]:
    admin_check(user=user)
    return User.objects.filter(care_teams__patient_id=patient_id).order_by("username")


# --- Break-glass review (privacy officers) -------------------------------------------------------


REVIEW_PENDING = "pending"


def break_glass_grants_for_review(*, user: User, outcome: str = REVIEW_PENDING) -> QuerySet[BreakGlassGrant]:
    """Grants waiting for review, oldest first (outcome "pending"), or the reviewed ones with
    that ReviewOutcome, most recently reviewed first."""
    privacy_officer_check(user=user)
    grants = BreakGlassGrant.objects.select_related("user", "reviewed_by", "patient")
    if outcome == REVIEW_PENDING:
        return grants.filter(reviewed_at__isnull=True).order_by("granted_at", "id")
    if outcome not in ReviewOutcome.values:
        return grants.none()
    return grants.filter(reviewed_at__isnull=False, review_outcome=outcome).order_by("-reviewed_at", "-id")


def break_glass_grant_get_for_review(*, user: User, grant_id: int) -> BreakGlassGrant:
    privacy_officer_check(user=user)
    grant = BreakGlassGrant.objects.filter(pk=grant_id).select_related("user").first()
    if grant is None:
        raise Http404("No such break-glass grant.")
    return grant
