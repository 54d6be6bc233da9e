from django.core.management.base import BaseCommand

from clinsum.retention.purge import retention_purge_run


class Command(BaseCommand):
    help = (
        "Purge what the active retention policies have expired. --run purges now, in this process "
        "(sites without Celery beat, tests); without it the purge task is queued for the workers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--run", action="store_true", help="purge synchronously in this process")

    def handle(self, *args, **options):
        if not options["run"]:
            from clinsum.retention.tasks import retention_purge

            retention_purge.delay()
            self.stdout.write("retention purge queued (see the receipts page); use --run to purge here")
            return
        receipt = retention_purge_run()
        counts = " ".join(f"{kind}={n}" for kind, n in receipt.counts.items())
        self.stdout.write(
            f"receipt {receipt.pk} ({receipt.run_id}) {receipt.status}: {counts} "
            f"batches={receipt.batches} sha256={receipt.deleted_ids_sha256}"
        )
