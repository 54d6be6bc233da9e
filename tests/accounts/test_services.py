"""accounts/services.py called directly: the rules that hold whichever page or command asks."""

import pytest


def test_the_last_privacy_officer_cannot_be_demoted_or_deactivated(db, make_user):
    from clinsum.accounts.services import AccountError, user_deactivate, user_update

    admin = make_user("root", "admin")
    only = make_user("pia", "privacy_officer")
    for change in (
        lambda: user_update(actor=admin, user_id=only.pk, role="clinician", unit=""),
        lambda: user_deactivate(actor=admin, user_id=only.pk, reason="left the hospital"),
    ):
        with pytest.raises(AccountError, match="only active privacy officer"):
            change()
    make_user("paz", "privacy_officer")
    assert user_update(actor=admin, user_id=only.pk, role="clinician", unit="4W").role == "clinician"


@pytest.mark.parametrize("reason", ["", "   ", "ok", "\n\t x \n"])
def test_a_deactivation_needs_a_reason(db, make_user, reason):
    from clinsum.accounts.services import AccountError, user_deactivate

    admin = make_user("root", "admin")
    bea = make_user("bea", "nurse", "4W")
    with pytest.raises(AccountError, match="Give the reason"):
        user_deactivate(actor=admin, user_id=bea.pk, reason=reason)
    bea.refresh_from_db()
    assert bea.is_active


def test_the_deactivation_reason_is_kept_in_the_audit_event(db, make_user):
    from clinsum.accounts.services import user_deactivate
    from clinsum.audit.models import AuditEvent

    admin = make_user("root", "admin")
    bea = make_user("bea", "nurse", "4W")
    user_deactivate(actor=admin, user_id=bea.pk, reason="  Left the hospital\n31 May  ")
    event = AuditEvent.objects.get(action="user_deactivate")
    assert (event.actor_id, event.object_id) == (admin.pk, str(bea.pk))
    assert event.reason.startswith("Left the hospital 31 May; sessions=0")
