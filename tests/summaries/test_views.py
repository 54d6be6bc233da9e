"""TODO"""

from django.urls import reverse


def test_summary_create_rejects_get(clinician, ward, client):
    client.force_login(clinician)
    assert client.get(reverse("summary_create", args=[ward["p1"].pk])).status_code == 405
