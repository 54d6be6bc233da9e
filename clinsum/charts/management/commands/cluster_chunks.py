"""manage.py cluster_chunks [--lock-timeout S]: rewrite the chunk table in patient order.

Notes arrive one at a time over a stay, so a patient's chunks end up scattered over the table,
one or two pages per note. While the table fits in memory that costs nothing; once it does not
(10M chunks on a 24 GB machine), a patient's first search reads each of those pages from disk.
CLUSTER writes the table again with each patient's chunks together (bench/README.md: at 10M
chunks, cold first-search p99 7.3 -> 5.3 ms for the chunk reads, 295 s on 2 cores).

It takes an exclusive lock on the chunk table for the whole rewrite: searches and indexing wait.
Run it in a maintenance window, as the database owner (DATABASE_OWNER_URL), with free disk of
about twice the chunk table's size (the new copy and the sort's temporary files). Chunks
written later are not reordered until the next run."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection

from clinsum.db.roles import as_owner


class Command(BaseCommand):
    help = "Rewrite the chunk table with each patient's chunks together (locks it; maintenance window)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--lock-timeout",
            type=int,
            default=30,
            help="seconds to wait for the table lock before giving up (default 30)",
        )

    def handle(self, *args, lock_timeout: int, **opts):
        if lock_timeout <= 0:
            raise CommandError("--lock-timeout must be > 0")
        started = time.perf_counter()
        with as_owner(required=True), connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{int(lock_timeout)}s'")
            try:
                cursor.execute("CLUSTER charts_chunk USING chunk_patient")
            except OperationalError as exc:  # CLUSTER is one transaction: on failure the old table stays
                sqlstate = getattr(exc.__cause__, "sqlstate", None)
                if sqlstate == "55P03":  # lock_not_available
                    raise CommandError(f"the chunk table is busy (waited {lock_timeout} s); nothing changed") from exc
                if sqlstate == "53100":  # disk_full
                    raise CommandError(
                        "not enough free disk for the rewrite (it needs about twice the chunk table); nothing changed"
                    ) from exc
                raise CommandError(f"CLUSTER failed (SQLSTATE {sqlstate}); nothing changed") from exc
            cursor.execute("ANALYZE charts_chunk")
            cursor.execute("SELECT count(*), pg_total_relation_size('charts_chunk') FROM charts_chunk")
            chunks, size = cursor.fetchone()
        self.stdout.write(
            f"Clustered {chunks:,} chunks by patient ({size / 2**20:,.0f} MiB with indexes) "
            f"in {time.perf_counter() - started:.1f} s."
        )
