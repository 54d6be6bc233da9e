from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinsum.audit.archive import AuditArchiveRefused, audit_archive_create


class Command(BaseCommand):
    help = (
        "Export audit events older than --before (a date in the hospital's time zone, at least six "
        "years ago) to a JSON-lines file with their hashes, then remove them from the table, leaving "
        "an archive anchor that audit_verify starts from. Writes a checkpoint first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
        parser.add_argument("--out", required=True, type=Path, metavar="FILE")

    def handle(self, *args, **options):
        try:
            archive = audit_archive_create(before=options["before"], out=options["out"])
        except AuditArchiveRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"archived events {archive.first_seq}-{archive.last_seq} ({archive.count}) to {options['out']}; "
            f"last hash {archive.last_hash}; file sha256 {archive.file_sha256}"
        )
