"""`{{ note.authored_at|note_date:"Y-m-d H:i" }}`: the date filter, or "date out of range" for a
stored date Python cannot hold (read as a bound by clinsum.db.backend), never a bogus year 9999."""

from django import template
from django.template.defaultfilters import date as date_filter

from clinsum.db.backend.base import out_of_range

register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def note_date(value, arg=None):
    if out_of_range(value):
        return "" if arg == "c" else "date out of range"  # "c": a <time datetime> attribute
    return date_filter(value, arg)
