"""manage.py service_token_revoke NAME: stop a machine client's token working, at once.
`--list` shows every token's name, state and last use (never the token)."""

from django.core.management.base import BaseCommand, CommandError

from clinsum.audit.services import audit_record
from clinsum.charts.models import ServiceToken
from clinsum.charts.services import service_token_revoke


class Command(BaseCommand):
    help = "Revoke a service-account token for POST /api/fhir/Bundle (or --list them)."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="the token's name, as given to service_token_create")
        parser.add_argument("--list", action="store_true", help="list tokens and exit")

    def handle(self, *args, name: str | None, list: bool, **opts):
        if list:
            for row in ServiceToken.objects.order_by("name"):
                used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "never"
                self.stdout.write(f"{row.pk}\t{row.name}\t{'active' if row.active else 'revoked'}\tlast used {used}")
            return
        if not name:
            raise CommandError("give the NAME of the token to revoke (or --list)")
        try:
            row = service_token_revoke(name=name.strip())
        except ServiceToken.DoesNotExist as exc:
            raise CommandError(str(exc)) from None
        audit_record(action="service_token_revoke", object_type="service_token", object_id=row.pk)
        self.stdout.write(f"service token {row.pk} ({row.name}) revoked")
