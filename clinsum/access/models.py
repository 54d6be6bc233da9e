"""Care teams and break-glass grants: the rows the access rule reads (see selectors.py).

Both tables were created by the charts and accounts apps; they keep their names
(charts_careteammember, accounts_breakglassgrant), so moving them here changed no table and
the retrieval SQL (retrieval/store.py) still reads them by those names.
"""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinsum.charts.models import Patient


class CareTeamMember(models.Model):
    """A user on a patient's care team: reads the chart whatever their unit."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_teams")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "charts_careteammember"
        constraints = [models.UniqueConstraint(fields=["patient", "user"], name="careteam_unique_member")]

    def __str__(self) -> str:
        return f"CareTeamMember {self.pk}"


class ReviewOutcome(models.TextChoices):
    """A privacy officer's finding on one break-glass access."""

    APPROPRIATE = "appropriate", "Appropriate"
    NOT_APPROPRIATE = "not_appropriate", "Not appropriate"
    REFERRED = "referred", "Referred for follow-up"


class BreakGlassGrant(models.Model):
    """Time-limited emergency access by a clinician or nurse to a chart outside their scope,
    given with a reason and reviewed afterwards by a privacy officer."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="break_glass_grants")
    reason = models.TextField(help_text="Why the chart was opened, in the user's words (no PHI by design)")
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    review_outcome = models.CharField(max_length=16, choices=ReviewOutcome.choices, blank=True, default="")

    class Meta:
        db_table = "accounts_breakglassgrant"
        ordering = ["-granted_at", "-id"]
        indexes = [
            models.Index(fields=["user", "expires_at"], name="breakglass_user_expiry"),
            models.Index(fields=["granted_at"], condition=Q(reviewed_at__isnull=True), name="breakglass_unreviewed"),
        ]

    def __str__(self) -> str:  # ids only
        return f"BreakGlassGrant {self.pk}"

    def is_active(self, now: datetime) -> bool:
        return self.granted_at <= now < self.expires_at
