from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from clinsum.accounts.models import Role

from .models import AuditEvent


def audit_events_for_user(*, user, action: str = "", patient_id: int | None = None) -> QuerySet[AuditEvent]:
    if not (user.is_authenticated and user.is_active and user.role == Role.PRIVACY_OFFICER):
        raise PermissionDenied("Only privacy officers read the audit trail.")
    events = AuditEvent.objects.order_by("-seq")
    if action:
        events = events.filter(action=action)
    if patient_id is not None:
        events = events.filter(patient_id=patient_id)
    return events
