"""manage.py patient_place --mrn MRN --unit WARD: put a patient on a unit, so that the unit's
clinicians and nurses see the chart (a FHIR bundle, e.g. from Synthea, carries no unit).
Audited as action patient_place; no note is read."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from clinsum.access.services import AccessError, patient_place
from clinsum.charts.models import Patient


class Command(BaseCommand):
    help = "Put a patient (by MRN, or FHIR Patient.id) on a unit so that its clinicians and nurses see the chart."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--mrn", help="the patient's MRN")
        who.add_argument("--source-id", help="the patient's upstream id (FHIR Patient.id)")
        parser.add_argument("--unit", required=True, help="unit (ward code), e.g. 4W")

    def handle(self, *args, mrn, source_id, unit, **opts):
        patient = (
            Patient.objects.filter(mrn=mrn).first() if mrn else Patient.objects.filter(source_id=source_id).first()
        )
        if patient is None:
            raise CommandError(f"no patient with {'MRN' if mrn else 'upstream id'} {mrn or source_id}")
        try:
            old, new = patient_place(actor=None, patient_id=patient.pk, unit=unit)
        except (AccessError, Http404) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"patient {patient.mrn}: unit {new} (was {old or 'none'})")
