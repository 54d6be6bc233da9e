"""The hospital-wide lookup: an exact MRN, or an exact family name with a birth date."""

from __future__ import annotations

from django import forms

from .models import ReviewOutcome


class PatientLookupForm(forms.Form):
    mrn = forms.CharField(max_length=64, required=False, label="MRN (exact)")
    family_name = forms.CharField(max_length=128, required=False, label="Family name (exact)")
    birth_date = forms.DateField(required=False, label="Date of birth", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        mrn = cleaned.get("mrn", "").strip()
        family_name = cleaned.get("family_name", "").strip()
        if not mrn and not (family_name and cleaned.get("birth_date")):
            raise forms.ValidationError("Enter the exact MRN, or the family name together with the date of birth.")
        return cleaned

    def kind(self) -> str:
        """How the lookup was made, for its audit row (never what was typed)."""
        return "mrn" if self.cleaned_data.get("mrn", "").strip() else "name_and_birth_date"


class BreakGlassReviewForm(forms.Form):
    outcome = forms.ChoiceField(choices=ReviewOutcome.choices, label="Outcome", widget=forms.RadioSelect)
    comment = forms.CharField(
        max_length=2000,
        required=False,
        label="Note (required unless appropriate)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
