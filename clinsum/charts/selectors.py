"""Reads of charts. Every read of patient data goes through here, and the access rule lives
here once: a clinician or nurse reads a patient on their unit or care team, or one they hold an
unexpired break-glass grant for; nobody else does."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from clinsum.accounts.errors import PatientOutOfScope
from clinsum.accounts.models import User
from clinsum.accounts.selectors import break_glass_grants_active
from retrieval.types import AccessScope

from .models import Note, Patient


def scope_for_user(*, user: User) -> AccessScope:
    """The user's chart access as data, for SQL that cannot use the ORM (retrieval)."""
    if not user.is_authenticated or not user.reads_charts():
        return AccessScope()
    granted = tuple(break_glass_grants_active(user=user).values_list("patient_id", flat=True).distinct())
    return AccessScope(units=(user.unit,) if user.unit else (), user_id=user.pk, patient_ids=granted)


def patients_for_user(*, user: User) -> QuerySet[Patient]:
    if not user.is_authenticated or not user.reads_charts():
        raise PermissionDenied("Your role does not read patient charts.")
    rule = Q(care_team__user=user) | Q(pk__in=break_glass_grants_active(user=user).values("patient_id"))
    if user.unit:
        rule |= Q(unit=user.unit)
    return Patient.objects.filter(rule).distinct()


def patient_list_for_user(*, user: User, query: str = "") -> QuerySet[Patient]:
    patients = patients_for_user(user=user)
    query = query.strip()
    if query:
        patients = patients.filter(
            Q(mrn__iexact=query) | Q(family_name__icontains=query) | Q(given_name__icontains=query)
        )
    return patients.order_by("family_name", "given_name", "mrn")


def patient_get_for_user(*, user: User, patient_id: int) -> Patient:
    """The patient, or PermissionDenied/Http404. Out-of-scope and non-existent look the same
    to roles without chart access; chart readers get 403 for an existing out-of-scope chart."""
    patient = patients_for_user(user=user).filter(pk=patient_id).first()
    if patient is None:
        if Patient.objects.filter(pk=patient_id).exists():
            raise PatientOutOfScope(patient_id)  # the 403 page offers break-glass
        raise Http404("No such patient.")
    return patient


def note_list_for_patient(*, user: User, patient: Patient) -> QuerySet[Note]:
    patient_get_for_user(user=user, patient_id=patient.pk)
    return Note.objects.filter(patient=patient).defer("text").order_by("-authored_at", "-id")


def note_get_for_user(*, user: User, note_id: int) -> Note:
    note = Note.objects.filter(pk=note_id).only("id", "patient_id").first()
    if note is None:
        raise Http404("No such note.")
    patient = patient_get_for_user(user=user, patient_id=note.patient_id)
    return Note.objects.select_related("patient").get(pk=note_id, patient=patient)
