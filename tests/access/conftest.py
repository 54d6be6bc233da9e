"""Access test helpers: Alice logged in, and break glass as her browser does it."""

import pytest
from django.urls import reverse

REASON = "Rapid response call, covering 4W bed 12 overnight"


@pytest.fixture
def alice(clinician, client):
    """Alice (4W) logged in; the ICU patient is outside her scope."""
    client.force_login(clinician)
    return client


def break_glass(client, patient, reason=REASON, next_url=""):
    return client.post(reverse("break_glass_create", args=[patient.pk]), {"reason": reason, "next": next_url})
