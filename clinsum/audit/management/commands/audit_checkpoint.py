import json
from pathlib import Path

from django.core.management.base import BaseCommand

from clinsum.audit.checkpoints import checkpoint_file_write
from clinsum.audit.services import audit_checkpoint_create


class Command(BaseCommand):
    help = (
        "Record the audit chain head as JSON {seq, hash, count, at}, in a new read-only file in "
        "AUDIT_CHECKPOINT_DIR (write-once storage; Celery beat does this every AUDIT_CHECKPOINT_EVERY_MIN "
        "minutes), or in --out FILE. The copy that matters is the one the database cannot reach."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, metavar="FILE", help="write the JSON to this file instead")

    def handle(self, *args, **options):
        if options["out"]:
            checkpoint = audit_checkpoint_create()
            text = json.dumps(checkpoint.as_dict(), sort_keys=True)
            options["out"].write_text(text + "\n", encoding="utf-8")
            self.stdout.write(text)
            return
        path = checkpoint_file_write()
        self.stdout.write(f"{path}: {path.read_text(encoding='utf-8').strip()}")
