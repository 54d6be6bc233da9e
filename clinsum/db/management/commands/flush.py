"""`flush` (the test runner's reset between transactional tests) empties tables with TRUNCATE,
which the app role may not do to the audit trail: it runs as the owner role.

A TRUNCATE of every table can deadlock with a worker process that is still writing (a test's
committed ingest queued embedding): PostgreSQL then aborts one of the two, and the flush is
tried again, up to five times."""

import time

from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from psycopg import errors

from clinsum.db.roles import as_owner

ATTEMPTS = 5


class Command(DjangoFlush):
    def handle(self, **options):
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with as_owner(options["database"]):
                    return super().handle(**options)
            except CommandError as exc:
                cause = exc.__cause__
                retry = isinstance(getattr(cause, "__cause__", None), errors.DeadlockDetected) or isinstance(
                    cause, errors.DeadlockDetected
                )
                if not retry or attempt == ATTEMPTS:
                    raise
                time.sleep(0.2 * attempt)
