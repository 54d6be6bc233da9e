"""Access test helpers: Alice logged in, break glass as her browser does it, audit rows by action."""

import pytest
from django.urls import reverse

from clinsum.audit.models import AuditEvent

REASON = "Rapid response call, covering 4W bed 12 overnight"


@pytest.fixture
def alice(clinician, client):
    """Alice (4W) logged in; the ICU patient is outside her scope."""
    client.force_login(clinician)
    return client


def break_glass(client, patient, reason=REASON, next_url=""):
    return client.post(reverse("break_glass_create", args=[patient.pk]), {"reason": reason, "next": next_url})


def audit(action):
    return AuditEvent.objects.filter(action=action).order_by("seq")
