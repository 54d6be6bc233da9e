"""retention/selectors.py called directly: the preview of a policy before it is saved.
policy_expired and retention_plan are exercised by the purge, in tests/retention/test_purge.py."""

import pytest
from django.core.exceptions import PermissionDenied

from clinsum.retention.models import LegalHold, RetentionPolicy
from clinsum.retention.selectors import retention_plan, retention_preview

from .conftest import NOW, add_note


def test_the_preview_counts_what_a_purge_now_would_delete(ward, admin_user):
    old = add_note("T-001", "Old.", days_ago=400)
    add_note("T-001", "Newer.", days_ago=100)
    add_note("T-002", "Recent.", days_ago=1)
    add_note("T-003", "Held.", days_ago=800)
    add_note("T-001", "Another type.", days_ago=900, note_type="consult")
    LegalHold.objects.create(patient=ward["icu"], reason="Matter", placed_by=admin_user)

    row = retention_preview(user=admin_user, target="progress", keep_days=50, now=NOW)
    assert (row.count, row.oldest, row.held) == (2, old.authored_at, 1)
    assert retention_preview(user=admin_user, target="progress", keep_days=200, now=NOW).count == 1
    assert retention_preview(user=admin_user, target="progress", keep_days=5000, now=NOW).count == 0
    assert not RetentionPolicy.objects.exists() and retention_plan(now=NOW) == []  # nothing saved


def test_a_preview_of_sessions_without_a_database_store_says_so(admin_user, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    row = retention_preview(user=admin_user, target="session", keep_days=1)
    assert (row.count, row.note) == (0, "sessions are not stored in the database")


@pytest.mark.parametrize("role", ["clinician", "nurse", "privacy_officer"])
def test_only_admins_preview(request, role):
    with pytest.raises(PermissionDenied):
        retention_preview(user=request.getfixturevalue(role), target="progress", keep_days=1)
