"""Retention fixtures: notes with chunks, summaries citing them, the purge's fixed 'now', and two
administrators."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from clinsum.charts.models import Chunk, Note
from clinsum.charts.services import notes_ingest
from clinsum.summaries.models import Citation, Claim, Summary
from tests.conftest import note_record

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # note_record dates count back from 2026-11-20


def add_note(mrn: str, text: str, *, days_ago: int, note_type: str = "progress", chunks: int = 2) -> Note:
    """A note through the ingest service (embedding is never enqueued: on_commit does not fire
    in these tests) with `chunks` chunk rows written directly, embedding None."""
    note_id = notes_ingest(notes=[note_record(mrn, text, days_ago=days_ago, note_type=note_type)]).note_ids[0]
    note = Note.objects.get(pk=note_id)
    for ordinal in range(chunks):
        Chunk.objects.create(
            note=note,
            patient_id=note.patient_id,
            ordinal=ordinal,
            char_start=0,
            char_end=min(len(text), 10),
            text=text[:10],
            embedding=None,
        )
    return note


def add_summary(patient, *cited: Note, status: str = "done") -> Summary:
    """A summary with one claim per cited note, each with a citation of that note's first chunk."""
    summary = Summary.objects.create(patient=patient, backend="extractive", fingerprint=uuid.uuid4().hex, status=status)
    for ordinal, note in enumerate(cited):
        claim = Claim.objects.create(
            summary=summary, section="course", ordinal=ordinal, text=f"claim {ordinal}", verdict="supported"
        )
        Citation.objects.create(
            claim=claim,
            note=note,
            chunk=note.chunks.first(),
            source_id=f"S{ordinal + 1}",
            char_start=0,
            char_end=10,
            found=True,
        )
    return summary


@pytest.fixture
def progress_policy(db):
    from clinsum.retention.models import RetentionPolicy

    return RetentionPolicy.objects.create(target="progress", keep_days=30)


@pytest.fixture
def admins(db, make_user):
    return make_user("ada", "admin"), make_user("ben", "admin")
