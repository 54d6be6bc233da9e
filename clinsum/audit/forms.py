"""Search forms of the privacy-officer pages. Dates are days in the hospital's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone


def local_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


class DateRangeForm(forms.Form):
    date_from = forms.DateField(
        required=False,
        label="From",
        help_text="YYYY-MM-DD, hospital time",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        required=False,
        label="To (inclusive)",
        help_text="YYYY-MM-DD, hospital time",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned

    def time_range(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) in UTC-comparable aware datetimes: local midnight to the midnight after `date_to`."""
        start, end = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        return (local_day_start(start) if start else None, local_day_start(end + timedelta(days=1)) if end else None)

    def describe(self) -> str:
        """The filters as text for the audit row of this search (ids and dates only)."""
        data = self.cleaned_data if self.is_valid() else {}
        return " ".join(f"{name}={value}" for name, value in data.items() if value not in (None, ""))[:500]


class AuditSearchForm(DateRangeForm):
    username = forms.CharField(max_length=150, required=False, label="User (username)")
    patient = forms.IntegerField(min_value=1, required=False, label="Patient id")
    action = forms.CharField(
        max_length=64, required=False, label="Action", widget=forms.TextInput(attrs={"list": "audit-actions"})
    )

    field_order = ["username", "patient", "action", "date_from", "date_to"]

    def search(self) -> dict:
        start, end = self.time_range()
        return {
            "username": self.cleaned_data["username"].strip(),
            "patient_id": self.cleaned_data["patient"],
            "action": self.cleaned_data["action"].strip(),
            "start": start,
            "end": end,
        }


class PatientAccessForm(DateRangeForm):
    patient = forms.IntegerField(min_value=1, required=True, label="Patient id")

    field_order = ["patient", "date_from", "date_to"]


class AnomalyForm(DateRangeForm):
    """Defaults to the last seven days."""

    DEFAULT_DAYS = 7

    def time_range(self) -> tuple[datetime, datetime]:
        start, end = super().time_range()
        today = timezone.localdate()
        end = end or local_day_start(today + timedelta(days=1))
        start = start or (end - timedelta(days=self.DEFAULT_DAYS))
        return start, end
