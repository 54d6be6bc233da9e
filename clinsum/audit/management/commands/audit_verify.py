from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinsum.audit.checkpoints import checkpoint_dir, checkpoint_newest
from clinsum.audit.verification import (
    CheckpointError,
    audit_archive_file_verify,
    audit_chain_verify,
    checkpoint_load,
)


class Command(BaseCommand):
    help = (
        "Recompute the audit hash chain in seq order and name the first bad event. Compares with the "
        "newest checkpoint file in AUDIT_CHECKPOINT_DIR (written by beat) and any --checkpoint files, which "
        "catches a chain rewritten from scratch or cut short; --archive files check archived events too."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            type=Path,
            metavar="FILE",
            help="a checkpoint JSON file; may be repeated",
        )
        parser.add_argument(
            "--archive",
            action="append",
            default=[],
            type=Path,
            metavar="FILE",
            help="an archive JSONL file to check against its anchor; may be repeated",
        )
        parser.add_argument(
            "--no-stored-checkpoints", action="store_true", help="ignore the checkpoints kept in the database"
        )
        parser.add_argument(
            "--checkpoint-dir",
            type=Path,
            metavar="DIR",
            default=None,
            help="where the scheduled checkpoint files are (default AUDIT_CHECKPOINT_DIR)",
        )
        parser.add_argument(
            "--no-checkpoint-dir", action="store_true", help="do not compare with the newest scheduled checkpoint file"
        )

    def handle(self, *args, **options):
        try:
            checkpoints = [checkpoint_load(path) for path in options["checkpoint"]]
            if not options["no_checkpoint_dir"]:
                directory = options["checkpoint_dir"] or checkpoint_dir()
                newest = checkpoint_newest(directory)
                if newest is None:
                    self.stderr.write(
                        f"no checkpoint file in {directory}: a chain rewritten from scratch would "
                        "not be noticed (is beat running? see README: audit checkpoints)"
                    )
                else:
                    checkpoints.append(newest)
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
            self.stdout.write(
                f"{len(report.checkpoints_archived)} checkpoint(s) name archived events; check them with --archive FILE"
            )
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(report.summary())
        if broken:
            raise CommandError(f"{len(broken)} archive file(s) failed verification")
