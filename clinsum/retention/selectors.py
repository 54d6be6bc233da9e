"""Reads for retention: what is expired under a policy (shared by the dry run and the purge),
and the admin pages' lists. Admins see policies, receipts and the ids of held patients, never notes
or patient identity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, Min, OuterRef, QuerySet
from django.http import Http404
from django.utils import timezone

from clinsum.accounts.models import Role
from clinsum.asking.models import Question, QuestionStatus
from clinsum.charts.models import Note
from clinsum.drafting.models import Draft, DraftStatus
from clinsum.summaries.models import Summary, SummaryStatus

from .models import (
    TARGET_DRAFT,
    TARGET_QUESTION,
    TARGET_SESSION,
    TARGET_SUMMARY,
    DeletionReceipt,
    LegalHold,
    RetentionPolicy,
)

DB_SESSION_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def retention_admin_check(*, user) -> None:
    if not (user is not None and user.is_authenticated and user.is_active and user.role == Role.ADMIN):
        raise PermissionDenied("Only administrators manage retention and legal holds.")


def _active_hold():
    return LegalHold.objects.filter(patient_id=OuterRef("patient_id"), released_at__isnull=True)


def _split_by_hold(candidates: QuerySet, date_field: str) -> Expired:
    held = Exists(_active_hold())
    return Expired(candidates.exclude(held), date_field, candidates.filter(held))


@dataclass(frozen=True)
class Expired:
    """The rows a policy would purge now: `rows` (holds honoured), their date field, and the
    rows held back by a legal hold. rows is None when the target does not exist here."""

    rows: QuerySet | None
    date_field: str = ""
    held: QuerySet | None = None
    note: str = ""


def policy_expired(*, policy: RetentionPolicy, now: datetime) -> Expired:
    cutoff = now - timedelta(days=policy.keep_days)
    if policy.is_note_policy():
        candidates: QuerySet = Note.objects.filter(note_type=policy.target, authored_at__lt=cutoff)
        return _split_by_hold(candidates, "authored_at")
    if policy.target == TARGET_SUMMARY:
        # Queued or running summaries belong to a worker; they are purged once finished.
        candidates = Summary.objects.filter(created_at__lt=cutoff).exclude(
            status__in=(SummaryStatus.QUEUED, SummaryStatus.RUNNING)
        )
        return _split_by_hold(candidates, "created_at")
    if policy.target == TARGET_DRAFT:
        # A signed draft is its note's provenance: it goes with that note, under the note's policy.
        # A queued or running draft is a worker's, until finished.
        candidates = Draft.objects.filter(created_at__lt=cutoff, signed_at__isnull=True).exclude(
            status__in=(DraftStatus.QUEUED, DraftStatus.RUNNING)
        )
        return _split_by_hold(candidates, "created_at")
    if policy.target == TARGET_QUESTION:
        # Like summaries: by created_at, once answered or failed (a queued one is a worker's).
        candidates = Question.objects.filter(created_at__lt=cutoff).exclude(
            status__in=(QuestionStatus.QUEUED, QuestionStatus.RUNNING)
        )
        return _split_by_hold(candidates, "created_at")
    if policy.target == TARGET_SESSION:
        if settings.SESSION_ENGINE not in DB_SESSION_ENGINES:
            return Expired(None, note="sessions are not stored in the database")
        from django.contrib.sessions.models import Session

        return Expired(Session.objects.filter(expire_date__lt=cutoff), "expire_date", Session.objects.none())
    return Expired(None, note=f"unknown target {policy.target!r}")


@dataclass(frozen=True)
class PlanRow:
    policy: RetentionPolicy
    count: int
    oldest: datetime | None
    held: int
    note: str = ""


def retention_plan(*, now: datetime | None = None) -> list[PlanRow]:
    """Dry run: per active policy, how many rows a purge now would delete, the oldest one's
    date, and how many expired rows legal holds keep. Changes nothing."""
    now = now or timezone.now()
    plan = []
    for policy in RetentionPolicy.objects.filter(active=True).order_by("target"):
        expired = policy_expired(policy=policy, now=now)
        if expired.rows is None:
            plan.append(PlanRow(policy, 0, None, 0, expired.note))
            continue
        oldest = expired.rows.aggregate(oldest=Min(expired.date_field))["oldest"]
        held = expired.held.count() if expired.held is not None else 0
        plan.append(PlanRow(policy, expired.rows.count(), oldest, held))
    return plan


def retention_preview(*, user, target: str, keep_days: int, now: datetime | None = None) -> PlanRow:
    """What a policy keeping `target` for `keep_days` would delete if a purge ran now (count,
    the oldest row's date, rows legal holds keep), before it is saved. Counts and a date only:
    no patient, no content. Changes nothing."""
    retention_admin_check(user=user)
    policy = RetentionPolicy(target=target, keep_days=keep_days, active=True)  # never saved
    expired = policy_expired(policy=policy, now=now or timezone.now())
    if expired.rows is None:
        return PlanRow(policy, 0, None, 0, expired.note)
    oldest = expired.rows.aggregate(oldest=Min(expired.date_field))["oldest"]
    held = expired.held.count() if expired.held is not None else 0
    return PlanRow(policy, expired.rows.count(), oldest, held)


def policy_list_for_admin(*, user) -> QuerySet[RetentionPolicy]:
    retention_admin_check(user=user)
    return RetentionPolicy.objects.order_by("target")


def policy_get_for_admin(*, user, policy_id: int) -> RetentionPolicy:
    retention_admin_check(user=user)
    policy = RetentionPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise Http404("No such policy.")
    return policy


def hold_list_for_admin(*, user) -> QuerySet[LegalHold]:
    retention_admin_check(user=user)
    # The patient's id only: admins see no patient identity (they place a hold by the MRN that
    # the legal request names, which they know already; it is never shown back).
    return (
        LegalHold.objects.select_related("placed_by", "released_by")
        .only("id", "reason", "placed_at", "released_at", "patient_id", "placed_by__username", "released_by__username")
        .order_by(F("released_at").desc(nulls_first=True), "-placed_at")
    )


def receipt_list_for_admin(*, user) -> QuerySet[DeletionReceipt]:
    retention_admin_check(user=user)
    return DeletionReceipt.objects.order_by("-started_at", "-id")
