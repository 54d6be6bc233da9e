"""Every note in ../shared/data through `manage.py ingest_notes`, twice: counts, and proof that
a second run changes nothing.

    .venv/bin/python -m bench corpus

Own database (clinsum_bench_corpus), emptied first. MTSamples (one patient per file),
the Synthea FHIR bulk export (NDJSON), the Synthea transaction bundles (patients only, no notes)
and the nursing-notes corpus. Embedding is left to the worker (none runs here); instead every
stored note is chunked, to show the chunker takes all of them.
"""

from __future__ import annotations

import argparse
import io
import time

from bench.stack import DATA, bench_setup, charts_reset, machine

# The data folders also hold licences and upstream READMEs: only the data files are named.
SOURCES = [
    ("mtsamples", [DATA / "mtsamples"], {"patient_per_file": True}),
    ("synthea-fhir", sorted((DATA / "synthea-fhir").glob("*.ndjson")), {}),
    ("synthea-bundles", sorted((DATA / "synthea-bundles").glob("*.json")), {}),
    (
        "nursing-notes",
        [DATA / "nursing-notes" / "nursing-notes.txt"],
        {"patient_per_file": True, "authored_at": "2026-01-01T00:00:00Z"},
    ),
]


def main(argv=None) -> int:
    argparse.ArgumentParser(prog="python -m bench corpus").parse_args(argv)
    bench_setup("clinsum_bench_corpus")
    from django.core.management import call_command
    from django.db.models import Count

    from clinsum.charts.models import Note, Patient
    from retrieval.chunking import chunk_note

    print(f"machine: {machine()}")
    charts_reset()
    for run in ("first run", "second run"):
        print(f"{run}:")
        for name, paths, options in SOURCES:
            out, err = io.StringIO(), io.StringIO()
            started = time.perf_counter()
            call_command("ingest_notes", *map(str, paths), stdout=out, stderr=err, verbosity=0, **options)
            report = out.getvalue().strip().replace("\n", "; ")
            problems = [line for line in err.getvalue().splitlines() if not line.startswith("warning:")]
            warnings = len(err.getvalue().splitlines()) - len(problems)
            print(
                f"  {name:<16} {time.perf_counter() - started:5.1f} s  {report}"
                + (f"  [{warnings} warnings]" if warnings else "")
                + (f"  PROBLEMS: {problems[:3]}" if problems else "")
            )
    by_type = dict(Note.objects.values_list("note_type").annotate(n=Count("id")).order_by("note_type"))
    print(f"stored: {Patient.objects.count()} patients, {Note.objects.count()} notes; by type {by_type}")
    started = time.perf_counter()
    chunks = sum(len(chunk_note(text)) for text in Note.objects.values_list("text", flat=True).iterator())
    print(f"chunked every stored note: {chunks} chunks in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
