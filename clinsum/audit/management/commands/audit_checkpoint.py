import json
from pathlib import Path

from django.core.management.base import BaseCommand

from clinsum.audit.services import audit_checkpoint_create


class Command(BaseCommand):
    help = ("Record the audit chain head as JSON {seq, hash, count, at}. The copy that matters is the one "
            "stored OFF this machine (write-once storage, another system): send --out there.")

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, metavar="FILE", help="also write the JSON to this file")

    def handle(self, *args, **options):
        checkpoint = audit_checkpoint_create()
        text = json.dumps(checkpoint.as_dict(), sort_keys=True)
        if options["out"]:
            options["out"].write_text(text + "\n", encoding="utf-8")
        self.stdout.write(text)
