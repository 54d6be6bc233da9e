from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    NURSE = "nurse", "Nurse"
    ADMIN = "admin", "Administrator"
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"


CHART_ROLES = (Role.CLINICIAN, Role.NURSE)


class User(AbstractUser):
    """A person with exactly one role; clinicians and nurses work on one unit (ward)."""

    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    unit = models.CharField(max_length=64, blank=True, help_text="Ward code, e.g. 4W")

    def reads_charts(self) -> bool:
        return self.is_active and self.role in CHART_ROLES
