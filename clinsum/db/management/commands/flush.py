"""`flush` (the test runner's reset between transactional tests) empties tables with TRUNCATE,
which the app role may not do to the audit trail: it runs as the owner role."""

from django.core.management.commands.flush import Command as DjangoFlush

from clinsum.db.roles import as_owner


class Command(DjangoFlush):
    def handle(self, **options):
        with as_owner(options["database"]):
            super().handle(**options)
