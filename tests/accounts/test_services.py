"""accounts/services.py called directly: the rules that hold whichever page or command asks."""

import pytest


def test_the_last_privacy_officer_cannot_be_demoted_or_deactivated(db, make_user):
    from clinsum.accounts.services import AccountError, user_deactivate, user_update

    admin = make_user("root", "admin")
    only = make_user("pia", "privacy_officer")
    for change in (
        lambda: user_update(actor=admin, user_id=only.pk, role="clinician", unit=""),
        lambda: user_deactivate(actor=admin, user_id=only.pk),
    ):
        with pytest.raises(AccountError, match="only active privacy officer"):
            change()
    make_user("paz", "privacy_officer")
    assert user_update(actor=admin, user_id=only.pk, role="clinician", unit="4W").role == "clinician"
