from django import forms

from .models import retention_target_choices


class RetentionPolicyForm(forms.Form):
    target = forms.ChoiceField(choices=retention_target_choices, label="What is purged")
    keep_days = forms.IntegerField(
        min_value=1,
        max_value=365 * 100,
        label="Keep for (days)",
        help_text="Rows older than this many days are purged, unless a legal hold applies.",
    )
    active = forms.BooleanField(required=False, initial=True, label="Active")


class RetentionPolicyEditForm(forms.Form):
    keep_days = RetentionPolicyForm.base_fields["keep_days"]
    active = forms.BooleanField(required=False, label="Active")


class LegalHoldForm(forms.Form):
    mrn = forms.CharField(max_length=64, label="Patient MRN")
    reason = forms.CharField(
        max_length=500, label="Reason (matter or request number)", widget=forms.TextInput(attrs={"size": 50})
    )
