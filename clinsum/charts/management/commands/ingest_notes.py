"""manage.py ingest_notes PATH: a folder of .txt/.md notes, or JSONL/CSV files. One transaction per file."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from clinsum.audit.services import audit_record
from clinsum.charts.ingest import TEXT_SUFFIXES, files_in, parse_datetime, parse_table_file, parse_text_file
from clinsum.charts.records import PatientRecord
from clinsum.charts.services import IngestError, notes_ingest


class Command(BaseCommand):
    help = "Ingest notes from a folder of .txt/.md files or from JSONL/CSV files."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--mrn", help="patient of every .txt/.md note (must exist unless --patient-per-file)")
        parser.add_argument("--patient-per-file", action="store_true",
                            help="one new patient per .txt/.md file, MRN derived from the file name (test corpora)")
        parser.add_argument("--note-type", default="other", help="note type of .txt/.md notes")
        parser.add_argument("--author", default="", help="author of .txt/.md notes")
        parser.add_argument("--authored-at", default="", help="ISO date-time of .txt/.md notes (default: now)")
        parser.add_argument("--unit", default="", help="unit of patients created by --patient-per-file")

    def handle(self, *args, path: Path, mrn, patient_per_file, note_type, author, authored_at, unit, **opts):
        try:
            files = files_in(path)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        if any(f.suffix.lower() in TEXT_SUFFIXES for f in files) and not (mrn or patient_per_file):
            raise CommandError("plain-text notes need --mrn MRN (or --patient-per-file)")
        when = parse_datetime(authored_at) if authored_at else timezone.now()
        started = time.monotonic()
        totals = {"new": 0, "unchanged": 0, "rejected_files": 0, "patients_new": 0}
        for file in tqdm(files, unit="file", disable=len(files) < 2 or opts["verbosity"] == 0):
            try:
                if file.suffix.lower() in TEXT_SUFFIXES:
                    file_mrn = mrn or "FILE-" + hashlib.sha1(file.name.encode()).hexdigest()[:12].upper()
                    parsed = parse_text_file(file, mrn=file_mrn, note_type=note_type, author=author, authored_at=when)
                    if patient_per_file:
                        parsed.patients.append(PatientRecord(mrn=file_mrn, family_name=file.stem[:120], unit=unit))
                else:
                    parsed = parse_table_file(file)
                result = notes_ingest(notes=parsed.notes, patients=parsed.patients)
            except IngestError as exc:
                totals["rejected_files"] += 1
                self.stderr.write(f"{file}: rejected, nothing of it was stored")
                for line, message in exc.problems:
                    self.stderr.write(f"  {file.name}{f':{line}' if line else ''}: {message}")
                continue
            except OSError as exc:
                totals["rejected_files"] += 1
                self.stderr.write(f"{file}: cannot read ({exc.strerror})")
                continue
            for warning in parsed.warnings:
                self.stderr.write(f"warning: {warning}")
            totals["new"] += result.notes_new
            totals["unchanged"] += result.notes_unchanged
            totals["patients_new"] += result.patients_new
            audit_record(action="ingest", object_type="file", object_id=hashlib.sha1(str(file).encode()).hexdigest()[:16])
        seconds = time.monotonic() - started
        self.stdout.write(
            f"notes new {totals['new']}, unchanged {totals['unchanged']}, files rejected {totals['rejected_files']}, "
            f"patients new {totals['patients_new']}, {seconds:.1f} s (embedding continues in the worker)"
        )
        if totals["rejected_files"]:
            raise CommandError(f"{totals['rejected_files']} file(s) rejected")
