"""Reads of charts. Every read of patient data goes through here; which patients a user may
read is decided in clinsum.access.selectors (readable_patients), nowhere else."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from clinsum.access.selectors import readable_patients
from clinsum.accounts.errors import PatientOutOfScope
from clinsum.accounts.models import User

from .models import Note, Patient


def patient_list_for_user(*, user: User, query: str = "") -> QuerySet[Patient]:
    patients = readable_patients(user=user)
    query = query.strip()
    if query:
        patients = patients.filter(
            Q(mrn__iexact=query) | Q(family_name__icontains=query) | Q(given_name__icontains=query)
        )
    return patients.order_by("family_name", "given_name", "mrn")


def patient_get_for_user(*, user: User, patient_id: int) -> Patient:
    """The patient, or PermissionDenied/Http404. Out-of-scope and non-existent look the same
    to roles without chart access; chart readers get 403 for an existing out-of-scope chart."""
    patient = readable_patients(user=user).filter(pk=patient_id).first()
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
