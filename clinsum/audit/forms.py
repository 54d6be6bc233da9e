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
        help_text="A day, in hospital time",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        required=False,
        label="To (inclusive)",
        help_text="A day, in hospital time",
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


class PatientQueryForm(DateRangeForm):
    """The patient is named by its ClinSum id or exact MRN (one field), or by family name and
    birth date (two fields); the page resolves that to patient ids (the audit app knows no
    patients). Exact matches only."""

    PATIENT_FIELDS = ("patient", "family_name", "birth_date")

    patient = forms.CharField(
        max_length=64, required=False, label="Patient MRN or id", help_text="The exact MRN, or the ClinSum id"
    )
    family_name = forms.CharField(
        max_length=128, required=False, label="Or family name", help_text="The whole name, with the birth date"
    )
    birth_date = forms.DateField(
        required=False, label="Birth date", widget=forms.DateInput(attrs={"type": "date"}), help_text="With the name"
    )

    def clean(self):
        cleaned = super().clean()
        cleaned["patient"] = (cleaned.get("patient") or "").strip()
        cleaned["family_name"] = " ".join((cleaned.get("family_name") or "").split())
        name, born = cleaned["family_name"], cleaned.get("birth_date")
        if name and born is None:
            self.add_error("birth_date", "Give the birth date with the family name.")
        elif born is not None and not name:
            self.add_error("family_name", "Give the family name with the birth date.")
        elif cleaned["patient"] and name:
            raise forms.ValidationError("Search by MRN or id, or by family name and birth date: not both.")
        return cleaned

    def patient_query(self) -> dict | None:
        """{"mrn_or_id": text} or {"family_name": ..., "birth_date": ...}, or None (any patient)."""
        data = self.cleaned_data
        if data.get("patient"):
            return {"mrn_or_id": data["patient"]}
        if data.get("family_name") and data.get("birth_date"):
            return {"family_name": data["family_name"], "birth_date": data["birth_date"]}
        return None

    def describe(self) -> str:
        """As DateRangeForm.describe, without the MRN, name or birth date typed: the page adds
        the patient ids they resolved to."""
        data = self.cleaned_data if self.is_valid() else {}
        parts = [
            f"{name}={value}"
            for name, value in data.items()
            if name not in self.PATIENT_FIELDS and value not in (None, "")
        ]
        query = self.patient_query() if data else None
        if query:
            parts.append("patient_by=" + ("mrn_or_id" if "mrn_or_id" in query else "name_and_birth_date"))
        return " ".join(parts)[:500]


class AuditSearchForm(PatientQueryForm):
    """The audit events, filtered by user, patient, action and days."""

    username = forms.CharField(max_length=150, required=False, label="User (username)")
    action = forms.CharField(
        max_length=64, required=False, label="Action", widget=forms.TextInput(attrs={"list": "audit-actions"})
    )

    field_order = ["username", "patient", "family_name", "birth_date", "action", "date_from", "date_to"]

    def search(self) -> dict:
        """The filters other than the patient (the page resolves the patient to ids)."""
        start, end = self.time_range()
        return {
            "username": self.cleaned_data["username"].strip(),
            "action": self.cleaned_data["action"].strip(),
            "start": start,
            "end": end,
        }


class PatientAccessForm(PatientQueryForm):
    """Who accessed one patient: a patient is required."""

    field_order = ["patient", "family_name", "birth_date", "date_from", "date_to"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and self.patient_query() is None:
            self.add_error("patient", "Give the patient's exact MRN or ClinSum id, or family name and birth date.")
        return cleaned


class AnomalyForm(DateRangeForm):
    """Defaults to the last seven days."""

    DEFAULT_DAYS = 7

    def time_range(self) -> tuple[datetime, datetime]:
        start, end = super().time_range()
        today = timezone.localdate()
        end = end or local_day_start(today + timedelta(days=1))
        start = start or (end - timedelta(days=self.DEFAULT_DAYS))
        return start, end
