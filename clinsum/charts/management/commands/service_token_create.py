"""manage.py service_token_create NAME: a token for a machine client (the interface engine).
The token is printed once; only its SHA-256 is stored."""

from django.core.management.base import BaseCommand, CommandError

from clinsum.audit.services import audit_record
from clinsum.charts.models import ServiceToken
from clinsum.charts.services import service_token_create


class Command(BaseCommand):
    help = "Create a service-account token for POST /api/fhir/Bundle and print it once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="who uses it, e.g. interface-engine")

    def handle(self, *args, name: str, **opts):
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("NAME must be 1 to 100 characters")
        if ServiceToken.objects.filter(name=name).exists():
            raise CommandError(f"a service token named {name!r} exists already")
        row, token = service_token_create(name=name)
        audit_record(action="service_token_create", object_type="service_token", object_id=row.pk)
        self.stderr.write(f"service token {row.pk} ({name}) created; it is shown once, store it now:")
        self.stdout.write(token)
