from django.core.management.base import BaseCommand

from clinsum.retention.selectors import retention_plan


class Command(BaseCommand):
    help = "Dry run of the retention purge: per active policy, what would be deleted now. Changes nothing."

    def handle(self, *args, **options):
        plan = retention_plan()
        if not plan:
            self.stdout.write("no active retention policies: nothing would be purged")
            return
        self.stdout.write(f"{'target':<20} {'keep_days':>9} {'due':>8} {'oldest due':<11} {'held back':>9}")
        for row in plan:
            oldest = row.oldest.date().isoformat() if row.oldest else "-"
            line = f"{row.policy.target:<20} {row.policy.keep_days:>9} {row.count:>8} {oldest:<11} {row.held:>9}"
            self.stdout.write(line + (f"  ({row.note})" if row.note else ""))
        due, held = sum(r.count for r in plan), sum(r.held for r in plan)
        self.stdout.write(f"total due: {due}; held back by legal holds: {held}")
