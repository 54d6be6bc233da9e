"""Reads of the audit trail, for privacy officers only (the check lives here, in every selector).
Audit rows carry ids, actions and reasons, never note text, so nothing here can show PHI text."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, QuerySet
from django.utils import timezone

from .models import AuditEvent

# Actions that mean "this user opened this patient's chart" for the anomaly scan.
CHART_OPEN_ACTIONS = ("chart_view", "note_view", "summary_view", "summary_request", "break_glass")
BREAK_GLASS = "break_glass"


def audit_reader_check(*, user) -> None:
    """PermissionDenied unless the user is an active privacy officer."""
    if not (user.is_authenticated and user.reads_audit()):
        raise PermissionDenied("Only privacy officers read the audit trail.")


def audit_events_for_user(
    *,
    user,
    action: str = "",
    patient_ids: Collection[int] | None = None,
    username: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Events matching every given filter, newest first; `end` is exclusive. `patient_ids`:
    events about any of these patients (None: any patient or none)."""
    audit_reader_check(user=user)
    events = AuditEvent.objects.order_by("-seq")
    if action:
        events = events.filter(action=action)
    if patient_ids is not None:
        events = events.filter(patient_id__in=list(patient_ids))
    if username:
        events = events.filter(actor_username__iexact=username)
    if start is not None:
        events = events.filter(at__gte=start)
    if end is not None:
        events = events.filter(at__lt=end)
    return events


def audit_actions_for_user(*, user) -> list[str]:
    """The actions that occur in the trail, for the search form's suggestions."""
    audit_reader_check(user=user)
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


# Words an action code spells differently from plain English (the rest: underscores to spaces).
_ACTION_WORDS = {"mfa": "MFA", "api": "API", "csv": "CSV"}


def action_label(action: str) -> str:
    """An action code as a reader would say it: "note_view" -> "Note view", "mfa_enrol" -> "MFA enrol".
    The trail stores codes (they are searched and exported as such); pages show this."""
    words = [_ACTION_WORDS.get(w, w) for w in action.split("_") if w]
    if not words:
        return action
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def audit_patient_access(
    *, user, patient_id: int, start: datetime | None = None, end: datetime | None = None
) -> list[dict]:
    """Who touched this patient's record: one row per user with event count, first and last
    access and the actions seen, most recent first."""
    audit_reader_check(user=user)
    events = AuditEvent.objects.filter(patient_id=patient_id)
    if start is not None:
        events = events.filter(at__gte=start)
    if end is not None:
        events = events.filter(at__lt=end)
    return list(
        events.values("actor_id", "actor_username", "role")
        .annotate(
            count=Count("id"),
            first=Min("at"),
            last=Max("at"),
            actions=ArrayAgg("action", distinct=True, order_by="action"),
        )
        .order_by("-last", "actor_username")
    )


@dataclass
class Anomaly:
    kind: str  # "chart_burst" or "after_hours_break_glass"
    actor_id: int | None
    actor_username: str
    role: str
    start: datetime
    end: datetime
    count: int = 1  # distinct charts in the hour (chart_burst)
    seq: int | None = None  # the event (after_hours_break_glass)
    patient_id: int | None = None

    @property
    def description(self) -> str:
        if self.kind == "chart_burst":
            return f"opened {self.count} distinct charts within an hour"
        return "break-glass access outside day hours"


def _chart_bursts(events: Iterator[tuple], *, limit: int) -> Iterator[Anomaly]:
    """Sliding one-hour window per user over (actor_id, username, role, at, patient_id) rows in
    (actor, time) order; one anomaly per stretch during which the window holds > limit charts."""
    hour = timedelta(hours=1)
    actor = None
    window: deque = deque()
    charts: Counter = Counter()
    open_anomaly: Anomaly | None = None
    for actor_id, username, role, at, patient_id in events:
        if actor_id != actor:
            if open_anomaly:
                yield open_anomaly
            actor, open_anomaly = actor_id, None
            window.clear()
            charts.clear()
        window.append((at, patient_id))
        charts[patient_id] += 1
        while window[0][0] <= at - hour:
            _, old = window.popleft()
            charts[old] -= 1
            if not charts[old]:
                del charts[old]
        if len(charts) > limit:
            if open_anomaly is None:
                open_anomaly = Anomaly(
                    kind="chart_burst",
                    actor_id=actor_id,
                    actor_username=username,
                    role=role,
                    start=window[0][0],
                    end=at,
                    count=len(charts),
                )
            else:
                open_anomaly.end, open_anomaly.count = at, max(open_anomaly.count, len(charts))
        elif open_anomaly is not None:
            yield open_anomaly
            open_anomaly = None
    if open_anomaly:
        yield open_anomaly


def audit_anomalies(*, user, start: datetime, end: datetime) -> list[Anomaly]:
    """Flags for review in [start, end): a user opening more than AUDIT_ANOMALY_CHARTS_PER_HOUR
    distinct charts within any hour, and break-glass outside AUDIT_AFTER_HOURS (local time)."""
    audit_reader_check(user=user)
    per_hour = settings.AUDIT_ANOMALY_CHARTS_PER_HOUR
    day_start, day_end = settings.AUDIT_AFTER_HOURS
    in_range = AuditEvent.objects.filter(at__gte=start, at__lt=end)
    opens = (
        in_range.filter(action__in=CHART_OPEN_ACTIONS, patient_id__isnull=False, actor_id__isnull=False)
        .order_by("actor_id", "at", "seq")
        .values_list("actor_id", "actor_username", "role", "at", "patient_id")
        .iterator(chunk_size=5000)
    )
    flags = list(_chart_bursts(opens, limit=per_hour))
    local = timezone.get_default_timezone()
    for event in in_range.filter(action=BREAK_GLASS).order_by("at", "seq"):
        hour = event.at.astimezone(local).hour
        if not (day_start <= hour < day_end):
            flags.append(
                Anomaly(
                    kind="after_hours_break_glass",
                    actor_id=event.actor_id,
                    actor_username=event.actor_username,
                    role=event.role,
                    start=event.at,
                    end=event.at,
                    seq=event.seq,
                    patient_id=event.patient_id,
                )
            )
    flags.sort(key=lambda a: a.start, reverse=True)
    return flags
