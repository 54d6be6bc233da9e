from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    NURSE = "nurse", "Nurse"
    ADMIN = "admin", "Administrator"
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"


CHART_ROLES = (Role.CLINICIAN, Role.NURSE)
# Roles that must verify a TOTP token after the password before any page is served.
MFA_ROLES = (Role.ADMIN, Role.PRIVACY_OFFICER)
# Granting any of these roles puts an item in the privacy officers' review queue: chart roles
# read PHI, privacy officers read the audit trail, and a second admin could approve the first
# one's retention changes.
REVIEWED_ROLES = (Role.CLINICIAN, Role.NURSE, Role.PRIVACY_OFFICER, Role.ADMIN)


class User(AbstractUser):
    """A person with exactly one role; clinicians and nurses work on one unit (ward)."""

    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    unit = models.CharField(max_length=64, blank=True, help_text="Ward code, e.g. 4W")
    must_change_password = models.BooleanField(
        default=False, help_text="Set when an administrator chose the password: changed at the next login"
    )

    def reads_charts(self) -> bool:
        return self.is_active and self.role in CHART_ROLES

    def reads_audit(self) -> bool:
        """Privacy officers read the audit trail (clinsum.audit asks this, knowing no roles)."""
        return self.is_active and self.role == Role.PRIVACY_OFFICER

    def needs_mfa(self) -> bool:
        return self.role in MFA_ROLES

    def is_local_account(self) -> bool:
        """Local accounts have a ClinSum password; directory accounts never do."""
        return self.has_usable_password()


class AccountChange(models.Model):
    """An administrator gave an account a role (at creation or later); a privacy officer reviews it."""

    CREATED, ROLE_CHANGED = "created", "role_changed"
    KIND_CHOICES = [(CREATED, "Account created"), (ROLE_CHANGED, "Role changed")]

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="account_changes")
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    old_role = models.CharField(max_length=32, blank=True)
    new_role = models.CharField(max_length=32)
    changed_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["changed_at"], condition=Q(reviewed_at__isnull=True), name="accountchange_unreviewed")
        ]

    def __str__(self) -> str:  # ids only
        return f"AccountChange {self.pk}"

    def old_role_label(self) -> str:
        return Role(self.old_role).label if self.old_role in Role.values else "none"

    def new_role_label(self) -> str:
        return Role(self.new_role).label if self.new_role in Role.values else self.new_role


class MFAEnrolmentCode(models.Model):
    """A one-time code an administrator gives out of band: setting up an authenticator needs it,
    so a password alone never reveals a TOTP secret. Stored hashed; single use; expires."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mfa_enrolment_codes")
    code_hash = models.CharField(max_length=256)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:  # ids only, never the code
        return f"MFAEnrolmentCode {self.pk}"
