"""Writes for identity: user lifecycle, sessions, MFA. Every change is audited at the place it
happens. Care teams and break-glass grants are written in clinsum.access."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from clinsum.audit.services import audit_record

from .models import REVIEWED_ROLES, AccountChange, MFAEnrolmentCode, Role, User
from .selectors import admin_check, mfa_enrolment_code_spent, privacy_officer_check
from .signals import user_deactivated

if TYPE_CHECKING:
    from django_otp.plugins.otp_totp.models import TOTPDevice


class AccountError(Exception):
    """A change that was refused; the message is safe to show."""


# --- Sessions ----------------------------------------------------------------------------------


def user_sessions_end(*, user: User) -> int:
    """Delete every stored session of the user (they are logged out on their next request)."""
    ended = 0
    user_id = str(user.pk)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=500):
        if session.get_decoded().get("_auth_user_id") == user_id:
            session.delete()
            ended += 1
    return ended


# --- User lifecycle (admin console) --------------------------------------------------------------


def _role_check(*, role: str) -> None:
    if role and role not in Role.values:
        raise AccountError("Unknown role.")


def user_create(
    *,
    actor: User,
    username: str,
    role: str,
    unit: str = "",
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    admin_check(user=actor)
    username = username.strip().lower()
    _role_check(role=role)
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError("A user with this username exists already.")
    user = User(
        username=username,
        role=role,
        unit=unit.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
    )
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise AccountError(" ".join(exc.messages)) from exc
    user.set_password(password)
    user.must_change_password = True  # the administrator knows this password: the user replaces it
    with transaction.atomic():
        user.save()
        audit_record(
            action="user_create",
            actor=actor,
            object_type="user",
            object_id=user.pk,
            reason=f"username={username} role={role or '-'} unit={user.unit or '-'}",
        )
        _account_change_record(user=user, actor=actor, kind=AccountChange.CREATED, old_role="")
    return user


def _last_privacy_officer_check(*, user: User) -> None:
    """The audit trail must always have a reader: the last active privacy officer keeps the role."""
    if (
        user.role == Role.PRIVACY_OFFICER
        and user.is_active
        and not User.objects.filter(role=Role.PRIVACY_OFFICER, is_active=True)
        .exclude(pk=user.pk)
        .select_for_update()
        .exists()
    ):
        raise AccountError(
            "This is the only active privacy officer: appoint another before changing or deactivating this account."
        )


def user_update(*, actor: User, user_id: int, role: str, unit: str) -> User:
    admin_check(user=actor)
    _role_check(role=role)
    unit = unit.strip()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise Http404("No such user.")
        if user.pk == actor.pk and role != user.role:
            raise AccountError("You cannot change your own role.")
        if role != user.role:
            _last_privacy_officer_check(user=user)
        changes = []
        if user.role != role:
            changes.append(f"role {user.role or '-'}->{role or '-'}")
        if user.unit != unit:
            changes.append(f"unit {user.unit or '-'}->{unit or '-'}")
        if not changes:
            return user
        old_role = user.role
        user.role, user.unit = role, unit
        user.save(update_fields=["role", "unit"])
        audit_record(
            action="user_update",
            actor=actor,
            object_type="user",
            object_id=user.pk,
            reason="; ".join(changes),
        )
        if role != old_role:
            _account_change_record(user=user, actor=actor, kind=AccountChange.ROLE_CHANGED, old_role=old_role)
    return user


DEACTIVATION_REASON_MIN_CHARS = 5


def user_deactivate(*, actor: User, user_id: int, reason: str) -> User:
    """Offboarding: no login, sessions ended now, care teams and open break-glass grants removed.
    The administrator's reason (e.g. "left the hospital 31 May") is kept in the audit event."""
    admin_check(user=actor)
    reason = " ".join(reason.split())[:500]
    if len(reason) < DEACTIVATION_REASON_MIN_CHARS:
        raise AccountError("Give the reason for deactivating this account, e.g. 'left the hospital 31 May'.")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise Http404("No such user.")
        if user.pk == actor.pk:
            raise AccountError("You cannot deactivate your own account.")
        if not user.is_active:
            raise AccountError("This account is deactivated already.")
        _last_privacy_officer_check(user=user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        ended = [text for _, text in user_deactivated.send(sender=User, user=user) if text]
        sessions = user_sessions_end(user=user)
        audit_record(
            action="user_deactivate",
            actor=actor,
            object_type="user",
            object_id=user.pk,
            reason=f"{reason}; " + " ".join([f"sessions={sessions}", *ended]),
        )
    return user


def user_reactivate(*, actor: User, user_id: int) -> User:
    admin_check(user=actor)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise Http404("No such user.")
        if user.is_active:
            raise AccountError("This account is active already.")
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_record(action="user_reactivate", actor=actor, object_type="user", object_id=user.pk)
    return user


def user_unlock(*, actor: User, user_id: int) -> int:
    """Clear django-axes failures for the username (from every address); returns rows removed."""
    from axes.models import AccessAttempt
    from axes.utils import reset

    admin_check(user=actor)
    user = User.objects.filter(pk=user_id).only("id", "username").first()
    if user is None:
        raise Http404("No such user.")
    with transaction.atomic():
        removed = 0
        names = set(AccessAttempt.objects.filter(username__iexact=user.username).values_list("username", flat=True))
        for name in names:
            removed += reset(username=name)
        audit_record(
            action="user_unlock",
            actor=actor,
            object_type="user",
            object_id=user.pk,
            reason=f"attempts_cleared={removed}",
        )
    return removed


def user_mfa_reset(*, actor: User, user_id: int) -> str:
    """A lost phone: remove the user's TOTP devices, end their sessions and issue an enrolment
    code. Returns the code, for the administrator to give the user out of band: their password
    alone does not let them set up a new authenticator."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin_check(user=actor)
    with transaction.atomic():
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            raise Http404("No such user.")
        if user.pk == actor.pk:
            raise AccountError("Another administrator must reset your two-step verification.")
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        sessions = user_sessions_end(user=user)
        audit_record(
            action="mfa_reset",
            actor=actor,
            object_type="user",
            object_id=user.pk,
            reason=f"devices={removed} sessions={sessions}",
        )
        if not user.needs_mfa():
            return ""
        return mfa_enrolment_code_issue(actor=actor, user_id=user.pk)


def user_password_reset(*, actor: User, user_id: int, password: str) -> User:
    """A forgotten password: the administrator sets a temporary one (Django's validators), the
    user's sessions end, and they must replace it at their next sign-in, as after creation.
    Directory (LDAP) accounts have no ClinSum password: their directory resets it."""
    admin_check(user=actor)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise Http404("No such user.")
        if user.pk == actor.pk:
            raise AccountError("Change your own password on your password page.")
        if not user.is_local_account():
            raise AccountError("This account signs in through the directory: reset its password there.")
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise AccountError(" ".join(exc.messages)) from exc
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        sessions = user_sessions_end(user=user)
        audit_record(
            action="password_reset", actor=actor, object_type="user", object_id=user.pk, reason=f"sessions={sessions}"
        )
    return user


def user_password_change(*, user: User, new_password: str) -> None:
    """The user's own new password (checked by the form: old password, validators). Clears a
    forced change. The user's sessions no longer match the password hash and end; the view
    keeps its own (update_session_auth_hash)."""
    forced = user.must_change_password
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        audit_record(
            action="password_change",
            actor=user,
            object_type="user",
            object_id=user.pk,
            reason="required at first login" if forced else "",
        )


def user_sync_from_directory(*, user: User, role: str, unit: str, active: bool) -> User:
    """Role, unit and status as the directory has them at this login (a changed group is a
    changed role from the next login on); changes are audited with no actor (the directory)."""
    changes = []
    if user.role != role:
        changes.append(f"role {user.role or '-'}->{role or '-'}")
    if user.unit != unit:
        changes.append(f"unit {user.unit or '-'}->{unit or '-'}")
    if user.is_active != active:
        changes.append(f"active {user.is_active}->{active}")
    if not changes:
        return user
    with transaction.atomic():
        user.role, user.unit, user.is_active = role, unit, active
        user.save(update_fields=["role", "unit", "is_active"])
        if not active:
            user_sessions_end(user=user)
        audit_record(
            action="user_directory_sync",
            actor=None,
            object_type="user",
            object_id=user.pk,
            reason="; ".join(changes),
        )
    return user


# --- Account changes reviewed by a privacy officer -----------------------------------------------


def _account_change_record(*, user: User, actor: User, kind: str, old_role: str):
    """Queue a role grant for review (inside the caller's transaction)."""
    if user.role not in REVIEWED_ROLES:
        return None
    change = AccountChange.objects.create(
        user=user, changed_by=actor, kind=kind, old_role=old_role or "", new_role=user.role, changed_at=timezone.now()
    )
    audit_record(
        action="account_change_queued",
        actor=actor,
        object_type="account_change",
        object_id=change.pk,
        reason=f"user={user.pk} {kind} role {old_role or '-'}->{user.role}",
    )
    return change


def account_change_review(*, reviewer: User, change_id: int, comment: str = "") -> AccountChange:
    privacy_officer_check(user=reviewer)
    comment = comment.strip()[:2000]
    with transaction.atomic():
        change = AccountChange.objects.select_for_update().filter(pk=change_id).first()
        if change is None:
            raise Http404("No such account change.")
        if change.reviewed_at is not None:
            raise AccountError("This change has been reviewed already.")
        if change.user_id == reviewer.pk:
            raise AccountError("Another privacy officer must review a change to your own account.")
        change.reviewed_by, change.reviewed_at, change.review_comment = reviewer, timezone.now(), comment
        change.save(update_fields=["reviewed_by", "reviewed_at", "review_comment"])
        audit_record(
            action="account_change_review",
            actor=reviewer,
            object_type="account_change",
            object_id=change.pk,
            reason=f"user={change.user_id} {comment}".strip(),
        )
    return change


# --- MFA (TOTP) -------------------------------------------------------------------------------------

ENROLMENT_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read out over the phone
ENROLMENT_CODE_LENGTH = 12  # about 59 bits


def _enrolment_code_normalise(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def mfa_enrolment_code_issue(*, actor: User | None, user_id: int) -> str:
    """A one-time code that lets the user set up an authenticator, valid MFA_ENROLMENT_CODE_HOURS.
    Returns it, to be shown once and given out of band; only its hash is stored and any older
    unused code is void. actor=None: issued on the server's command line."""
    if actor is not None:
        admin_check(user=actor)
    raw = "".join(secrets.choice(ENROLMENT_CODE_ALPHABET) for _ in range(ENROLMENT_CODE_LENGTH))
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise Http404("No such user.")
        if actor is not None and user.pk == actor.pk:
            raise AccountError("Another administrator must issue your enrolment code.")
        if not user.needs_mfa():
            raise AccountError("This account does not use two-step verification.")
        MFAEnrolmentCode.objects.filter(user=user, used_at__isnull=True).delete()
        now = timezone.now()
        code = MFAEnrolmentCode.objects.create(
            user=user,
            code_hash=make_password(raw),
            issued_by=actor,
            issued_at=now,
            expires_at=now + timedelta(hours=settings.MFA_ENROLMENT_CODE_HOURS),
        )
        audit_record(
            action="mfa_code_issue",
            actor=actor,
            object_type="user",
            object_id=user.pk,
            reason=f"code={code.pk} hours={settings.MFA_ENROLMENT_CODE_HOURS}"
            + ("" if actor else " issued on the command line"),
        )
    return "-".join(raw[i : i + 4] for i in range(0, ENROLMENT_CODE_LENGTH, 4))


def mfa_enrolment_code_redeem(*, user: User, code: str) -> int | None:
    """Spend the user's enrolment code and return its id, which the view keeps in the session
    (ENROLMENT_CODE_SESSION_KEY): that session may then set up an authenticator, with a secret
    drawn now. A wrong, expired or used code is refused and audited (None); after
    MFA_ENROLMENT_CODE_MAX_ATTEMPTS wrong tries the code is void."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    now = timezone.now()
    with transaction.atomic():
        row = (
            MFAEnrolmentCode.objects.select_for_update()
            .filter(user=user, used_at__isnull=True)
            .order_by("-issued_at", "-id")
            .first()
        )
        refused = ""
        if row is None:
            refused = "no unused code"
        elif row.expires_at <= now:
            refused = "expired"
        elif row.failed_attempts >= settings.MFA_ENROLMENT_CODE_MAX_ATTEMPTS:
            refused = "too many attempts"
        elif not check_password(_enrolment_code_normalise(code), row.code_hash):
            MFAEnrolmentCode.objects.filter(pk=row.pk).update(failed_attempts=F("failed_attempts") + 1)
            refused = f"wrong code (attempt {row.failed_attempts + 1})"
        if refused:
            audit_record(
                action="mfa_code_failed",
                actor=user,
                outcome="denied",
                object_type="mfa_enrolment_code",
                object_id=row.pk if row else "",
                reason=refused,
            )
            return None
        assert row is not None  # `refused` is set whenever there is no usable row
        row.used_at = now
        row.save(update_fields=["used_at"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()  # any secret shown before is void
        audit_record(action="mfa_code_redeem", actor=user, object_type="mfa_enrolment_code", object_id=row.pk)
    return row.pk


def totp_device_for_enrolment(*, user: User):
    """The user's unconfirmed TOTP device (made once, so reloading the page keeps the secret)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name="ClinSum", confirmed=False)


def totp_enrol_confirm(*, user: User, token: str, enrolment_code_id: int | None) -> TOTPDevice | None:
    """Confirm the enrolment with a first token. Needs the id of the enrolment code this session
    spent. Returns the confirmed device, for the view to verify the session with (None: wrong
    token)."""
    import django_otp

    if not mfa_enrolment_code_spent(user=user, code_id=enrolment_code_id):
        raise PermissionDenied("Enter your enrolment code first.")
    device = totp_device_for_enrolment(user=user)
    if not django_otp.verify_token(user, device.persistent_id, token.strip()):
        audit_record(action="mfa_failed", actor=user, outcome="denied", reason="enrolment")
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(action="mfa_enrol", actor=user, object_type="otp_device", object_id=device.pk)
    return device


def totp_verify(*, user: User, token: str) -> TOTPDevice | None:
    """The user's confirmed device that accepts the token, for the view to verify the session
    with; None (audited) when none does."""
    import django_otp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if django_otp.verify_token(user, device.persistent_id, token.strip()):
            audit_record(action="mfa_verify", actor=user, object_type="otp_device", object_id=device.pk)
            return device
    audit_record(action="mfa_failed", actor=user, outcome="denied")
    return None
