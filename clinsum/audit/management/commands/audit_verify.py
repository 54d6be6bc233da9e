from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinsum.audit.verification import (
    CheckpointError,
    audit_archive_file_verify,
    audit_chain_verify,
    checkpoint_load,
)


class Command(BaseCommand):
    help = ("Recompute the audit hash chain in seq order and name the first bad event. Give the "
            "checkpoint files kept off the box (audit_checkpoint --out) to catch a chain rewritten from "
            "scratch, and archive files (audit_archive --out) to check archived events too.")

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", action="append", default=[], type=Path, metavar="FILE",
                            help="a checkpoint JSON file; may be repeated")
        parser.add_argument("--archive", action="append", default=[], type=Path, metavar="FILE",
                            help="an archive JSONL file to check against its anchor; may be repeated")
        parser.add_argument("--no-stored-checkpoints", action="store_true",
                            help="ignore the checkpoints kept in the database")

    def handle(self, *args, **options):
        try:
            checkpoints = [checkpoint_load(path) for path in options["checkpoint"]]
        except CheckpointError as exc:
            raise CommandError(str(exc)) from exc
        broken = []
        for path in options["archive"]:
            report = audit_archive_file_verify(path=path, checkpoints=checkpoints)
            self.stdout.write(f"{path}: {report.summary()}")
            if not report.ok:
                broken.append(report)
        report = audit_chain_verify(checkpoints=checkpoints, include_stored=not options["no_stored_checkpoints"])
        if report.checkpoints_archived and not options["archive"]:
            self.stdout.write(f"{len(report.checkpoints_archived)} checkpoint(s) name archived events; "
                              "check them with --archive FILE")
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(report.summary())
        if broken:
            raise CommandError(f"{len(broken)} archive file(s) failed verification")
