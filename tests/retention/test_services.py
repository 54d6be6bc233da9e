"""Clinical notes kept less than the floor (six years by default) need a second administrator:
one admin's request changes nothing until another approves it (issue 14, finding 4)."""

import pytest

from clinsum.audit.models import AuditEvent
from clinsum.retention.models import TARGET_SUMMARY, RetentionPolicy
from clinsum.retention.services import (
    RetentionError,
    retention_policy_approve,
    retention_policy_create,
    retention_policy_update,
)

pytestmark = pytest.mark.django_db


def test_one_admin_cannot_schedule_the_destruction_of_progress_notes(admins, settings):
    first, _ = admins
    policy = retention_policy_create(actor=first, target="progress", keep_days=1)
    assert (policy.keep_days, policy.active) == (settings.RETENTION_NOTE_FLOOR_DAYS, False)
    assert policy.pending_keep_days == 1 and policy.pending_by == first
    assert AuditEvent.objects.get(action="retention_policy_change").outcome == "pending"


def test_the_requester_cannot_approve_and_a_second_admin_can(admins):
    first, second = admins
    policy = retention_policy_create(actor=first, target="progress", keep_days=30)
    with pytest.raises(RetentionError, match="Another administrator"):
        retention_policy_approve(actor=first, policy_id=policy.pk)
    approved = retention_policy_approve(actor=second, policy_id=policy.pk)
    assert (approved.keep_days, approved.active, approved.pending_keep_days) == (30, True, None)
    assert AuditEvent.objects.filter(action="retention_policy_change", outcome="approved").count() == 1


def test_lowering_an_existing_note_policy_below_the_floor_waits_too(admins, settings):
    first, second = admins
    policy = retention_policy_create(actor=first, target="nursing", keep_days=settings.RETENTION_NOTE_FLOOR_DAYS)
    retention_policy_update(actor=first, policy_id=policy.pk, keep_days=7, active=True)
    assert RetentionPolicy.objects.get(pk=policy.pk).keep_days == settings.RETENTION_NOTE_FLOOR_DAYS
    retention_policy_approve(actor=second, policy_id=policy.pk)
    assert RetentionPolicy.objects.get(pk=policy.pk).keep_days == 7


def test_policies_for_summaries_and_drafts_have_no_floor(admins):
    first, _ = admins
    assert retention_policy_create(actor=first, target=TARGET_SUMMARY, keep_days=30).keep_days == 30
