"""The chart page's note filters and its search box."""

from django import forms

from .models import NoteType


class NoteFilterForm(forms.Form):
    """Filters on the chart's notes, read from GET (no patient data in them but a type, an
    author of the chart and dates). An invalid value is ignored, as if not given."""

    type = forms.ChoiceField(label="Type", required=False, choices=[("", "Any type"), *NoteType.choices])
    author = forms.ChoiceField(label="Author", required=False)
    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data=None, *, authors: list[str]):
        super().__init__(data)
        self.fields["author"].choices = [("", "Anyone"), *((a, a) for a in authors)]

    def filters(self) -> dict:
        """Keyword arguments for note_list_for_patient: only the fields that are valid."""
        if not self.is_bound:
            return {}
        self.is_valid()
        cleaned = self.cleaned_data
        return {
            key: cleaned[field]
            for key, field in (("note_type", "type"), ("author", "author"), ("start", "start"), ("end", "end"))
            if cleaned.get(field)
        }

    @property
    def active(self) -> bool:
        return bool(self.filters())


class ChartSearchForm(forms.Form):
    """Search within one chart. POSTed, so the words never sit in a URL or an access log."""

    q = forms.CharField(label="Search this chart", max_length=200, strip=True)

    def clean_q(self) -> str:
        query = self.cleaned_data["q"]
        if "\x00" in query:
            raise forms.ValidationError("The search contains a character that cannot be searched.")
        return query
