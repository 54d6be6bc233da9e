"""Reads of patient identity for the privacy officers' audit pages. A privacy officer reads no
chart, but names a patient to search the audit trail for and sees who each event was about:
exact matches only (an MRN, or a family name with a birth date), never a browsable list."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from clinsum.audit.selectors import audit_reader_check

from .models import Patient

AUDIT_IDENTITY_FIELDS = ("id", "mrn", "family_name", "given_name", "birth_date")
AUDIT_MATCHES_MAX = 20  # more patients with one name and birth date than this: search by MRN


def patients_for_audit(*, user, mrn: str = "", family_name: str = "", birth_date: date | None = None) -> list[Patient]:
    """The patients with exactly this MRN (any case), or exactly this family name (any case,
    spaces collapsed) and birth date; nothing for a partial name or a name without a birth date.
    Privacy officers only (PermissionDenied otherwise)."""
    audit_reader_check(user=user)
    mrn, family_name = mrn.strip(), " ".join(family_name.split())
    if mrn:
        found = Patient.objects.filter(mrn__iexact=mrn)
    elif family_name and birth_date is not None:
        found = Patient.objects.filter(family_name__iexact=family_name, birth_date=birth_date)
    else:
        return []
    return list(found.only(*AUDIT_IDENTITY_FIELDS).order_by("family_name", "given_name", "mrn")[:AUDIT_MATCHES_MAX])


def patient_identities_for_audit(*, user, patient_ids: Iterable[int | None]) -> dict[int, Patient]:
    """{id: patient} for the ids that still exist (name, MRN, birth date only), to show who the
    audit events on one page are about. Privacy officers only."""
    audit_reader_check(user=user)
    ids = {pk for pk in patient_ids if pk is not None}
    if not ids:
        return {}
    return {p.pk: p for p in Patient.objects.filter(pk__in=ids).only(*AUDIT_IDENTITY_FIELDS)}
