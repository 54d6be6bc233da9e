"""charts/services.py called directly: what notes_ingest refuses, and the content hash that tells an
unchanged note. The file formats and the ingest_notes command: test_ingest.py, test_fhir.py."""

import pytest

from clinsum.charts.models import Note
from clinsum.charts.services import IngestError, note_content_hash, notes_ingest
from tests.conftest import note_record


def test_it_treats_crlf_and_trailing_space_as_the_same_note():
    assert note_content_hash("a line  \r\nnext\r\n") == note_content_hash("a line\nnext\n")


def test_it_rejects_empty_and_oversized_notes(ward, settings):
    settings.NOTE_MAX_CHARS = 1000
    with pytest.raises(IngestError) as exc:
        notes_ingest(notes=[note_record("T-001", "   ", line=1), note_record("T-001", "x" * 1001, line=2)])
    assert exc.value.problems == [(1, "empty note text"), (2, "note has 1,001 characters; the limit is 1,000")]
    assert Note.objects.count() == 0


def test_conflicting_demographics_are_rejected(ward):
    from clinsum.charts.records import PatientRecord

    with pytest.raises(IngestError) as exc:
        notes_ingest(
            notes=[note_record("T-001", "ok")], patients=[PatientRecord(mrn="T-001", family_name="Someone-Else")]
        )
    assert "family name differ" in str(exc.value)
    assert Note.objects.count() == 0
