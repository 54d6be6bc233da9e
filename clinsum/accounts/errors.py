"""Exceptions that carry meaning across apps (a view, a form or a handler acts on them)."""

from django.core.exceptions import PermissionDenied


class PatientOutOfScope(PermissionDenied):
    """A chart reader asked for an existing patient outside their unit and care team: the 403
    page offers break-glass for this patient."""

    def __init__(self, patient_id: int, message: str = "This patient is not on your unit or care team."):
        super().__init__(message)
        self.patient_id = patient_id


class DirectoryUnavailable(Exception):
    """The LDAP/AD server could not be reached. Deliberately not PermissionDenied and not a
    failed login: a directory outage must not lock people out (django-axes never sees it)."""
