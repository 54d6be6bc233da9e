"""Dates stored out of Python's range (before ingest refused them, or by a restore) must not make
a page, a summary job or a report fail (issue 16): 9999-12-31T23:00-05:00 is year 10000 in UTC,
0001-01-01T00:00+01:00 is year 0; psycopg could not read either."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from clinsum.retention.models import RetentionPolicy
from clinsum.summaries.models import SummaryStatus
from tests.accounts.mfa import login_verified

from .conftest import summarised

TOO_LATE, TOO_EARLY = "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"


@pytest.fixture
def bad_dates(chart):
    late, early = chart.notes.order_by("pk").values_list("pk", flat=True)[:2]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE charts_note SET authored_at = %s::timestamptz WHERE id = %s", [TOO_LATE, late])
        cursor.execute("UPDATE charts_note SET authored_at = %s::timestamptz WHERE id = %s", [TOO_EARLY, early])
    return late, early


def test_the_chart_and_note_pages_say_date_out_of_range(client, chart, clinician, bad_dates):
    login_verified(client, clinician)
    page = client.get(reverse("chart_detail", args=[chart.pk]))
    assert page.status_code == 200
    assert page.content.decode().count("date out of range") == 2
    for note_id in bad_dates:
        page = client.get(reverse("note_detail", args=[note_id]))
        assert page.status_code == 200 and "date out of range" in page.content.decode()
        assert "9999" not in page.content.decode()


def test_a_summary_job_and_its_page_survive(client, chart, clinician, bad_dates, settings):
    settings.SUMMARY_BACKEND = "extractive"
    summary = summarised(chart, clinician, "extractive")
    assert summary.status == SummaryStatus.DONE, summary.error
    login_verified(client, clinician)
    assert client.get(reverse("summary_detail", args=[summary.pk])).status_code == 200


def test_the_retention_report_survives(chart, bad_dates):
    RetentionPolicy.objects.create(target="progress", keep_days=30)  # the report reads the oldest date due
    out = StringIO()
    call_command("retention_report", stdout=out)
    assert out.getvalue()
