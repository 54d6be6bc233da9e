import re
import unicodedata

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from .errors import DirectoryUnavailable
from .models import Role

NOT_MATCHED = "Your username and password didn't match, or the account is not active."
DIRECTORY_UNREACHABLE = "The directory server could not be reached; try again or contact the help desk."


class LoginForm(AuthenticationForm):
    """Django's login form; one message for a wrong password and an inactive account (no
    account probing), and a distinct one when the directory is down."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": NOT_MATCHED,
        "inactive": NOT_MATCHED,
        "directory_unreachable": DIRECTORY_UNREACHABLE,
    }
    directory_unreachable = False

    def clean(self):
        try:
            return super().clean()
        except DirectoryUnavailable:
            self.directory_unreachable = True
            raise ValidationError(self.error_messages["directory_unreachable"], code="directory_unreachable") from None


class TokenForm(forms.Form):
    token = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="6-digit code from your authenticator app",
        error_messages={"invalid": "Enter the 6-digit code."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
    )


class EnrolmentCodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Enrolment code from your administrator",
        help_text="Twelve letters and digits, e.g. ABCD-EFGH-JKMN. An administrator gives it to you in person or "
        "by phone; it works once.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "size": 16,
                "aria-describedby": "id_code_helptext",
            }
        ),
    )


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's form (old password, the project's validators, typed twice); the new password must
    differ from the old one, which someone else may know."""

    @sensitive_variables("password")
    def clean_new_password2(self):
        password = self.cleaned_data.get("new_password2")
        if password and self.user.check_password(password):
            raise ValidationError("Choose a password different from the current one.", code="password_unchanged")
        return password


ROLE_CHOICES = [("", "No role (no access)"), *Role.choices]


class TemporaryPasswordForm(forms.Form):
    """A password an administrator types for a local account, twice; the user replaces it at
    their next sign-in (account creation, and the reset of a forgotten password)."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        help_text="A temporary password (at least 12 characters): the user must change it at their first login.",
    )
    password_again = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False, label="Password again"
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class UserCreateForm(TemporaryPasswordForm):
    username = forms.RegexField(
        regex=r"^[A-Za-z0-9._@+-]{2,150}$",
        max_length=150,
        error_messages={"invalid": "Letters, digits and . _ @ + - only."},
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False)
    unit = forms.CharField(max_length=64, required=False, help_text="Ward code, e.g. 4W (clinicians and nurses)")
    field_order = ["username", "first_name", "last_name", "email", "role", "unit", "password", "password_again"]


class UserPasswordResetForm(TemporaryPasswordForm):
    """A forgotten password of a local account."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].label = "Temporary password"
        self.fields[
            "password"
        ].help_text = "Give it to the user in person or by phone: they must replace it when they next sign in."


class UserEditForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False)
    unit = forms.CharField(max_length=64, required=False, help_text="Ward code, e.g. 4W")


class UserDeactivateForm(forms.Form):
    reason = forms.CharField(
        min_length=5,
        max_length=500,
        label="Reason for deactivating",
        help_text="Kept in the audit trail, e.g. 'left the hospital 31 May' or 'account misuse, ticket 4411'.",
        error_messages={"required": "Give the reason for deactivating this account."},
        widget=forms.Textarea(attrs={"rows": 2, "cols": 50, "aria-describedby": "id_reason_helptext"}),
    )


class UserSearchForm(forms.Form):
    q = forms.CharField(max_length=150, required=False, label="Find a user (name or username)")


class CareTeamLookupForm(forms.Form):
    patient = forms.IntegerField(
        min_value=1, label="Patient id", help_text="The ClinSum id shown on the chart's banner; ask the ward for it."
    )


class CareTeamAddForm(forms.Form):
    username = forms.CharField(max_length=150, label="Clinician or nurse (username)")


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Reason for emergency access",
        help_text="Why you need this chart now, e.g. 'covering ICU bed 12 during rapid response'. "
        "Do not enter clinical details.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "aria-describedby": "reason-help"}),
    )

    def __init__(self, *args, min_chars: int = 20, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].validators.append(_min_length_validator(min_chars))
        self.fields["reason"].widget.attrs["minlength"] = min_chars


def _min_length_validator(min_chars: int):
    """A reason a reviewer can read: enough visible characters (zero-width and other format
    characters do not count) in at least three words, not one letter repeated."""

    def check(value: str) -> None:
        visible = "".join(c for c in value if unicodedata.category(c) != "Cf")
        text = " ".join(visible.split())
        words = re.findall(r"[^\W\d_]{2,}", text)
        if len(text) < min_chars:
            raise ValidationError(f"Give the reason in at least {min_chars} characters.")
        if len(words) < 3 or len(set(text.replace(" ", "").lower())) < 5:
            raise ValidationError(
                "Give the reason in words a reviewer can read, e.g. 'covering ICU bed 12 during rapid response'."
            )

    return check


class AccountChangeReviewForm(forms.Form):
    comment = forms.CharField(
        max_length=2000, label="Review comment (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
