from datetime import datetime

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


class User(AbstractUser):
    """A person with exactly one role; clinicians and nurses work on one unit (ward)."""

    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    unit = models.CharField(max_length=64, blank=True, help_text="Ward code, e.g. 4W")

    def reads_charts(self) -> bool:
        return self.is_active and self.role in CHART_ROLES

    def needs_mfa(self) -> bool:
        return self.role in MFA_ROLES

    def is_local_account(self) -> bool:
        """Local accounts have a ClinSum password; directory accounts never do."""
        return self.has_usable_password()


class BreakGlassGrant(models.Model):
    """Time-limited emergency access by a clinician or nurse to a chart outside their scope,
    given with a reason and reviewed afterwards by a privacy officer."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_grants")
    patient = models.ForeignKey("charts.Patient", on_delete=models.CASCADE, related_name="break_glass_grants")
    reason = models.TextField(help_text="Why the chart was opened, in the user's words (no PHI by design)")
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [
            models.Index(fields=["user", "expires_at"], name="breakglass_user_expiry"),
            models.Index(fields=["granted_at"], condition=Q(reviewed_at__isnull=True),
                         name="breakglass_unreviewed"),
        ]

    def __str__(self) -> str:  # ids only
        return f"BreakGlassGrant {self.pk}"

    def is_active(self, now: datetime) -> bool:
        return self.granted_at <= now < self.expires_at
