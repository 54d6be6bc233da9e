import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinsum.charts.models import Note, Patient
from clinsum.charts.services import IngestError, note_content_hash, notes_ingest
from tests.conftest import note_record

CSV_HEADER = "mrn,note_type,authored_at,author,text\n"


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def row(mrn="T-001", text="Patient stable overnight. Denies chest pain.", **extra):
    return {"mrn": mrn, "note_type": "progress", "authored_at": "2026-11-19T08:00:00Z",
            "author": "Dr. Test", "text": text, **extra}


def test_it_ingests_jsonl_and_deduplicates_by_content(ward, tmp_path):
    path = write_jsonl(tmp_path / "notes.jsonl", [row(), row(text="Second note. Lasix 40 mg IV given.")])
    call_command("ingest_notes", str(path), verbosity=0)
    assert Note.objects.filter(patient=ward["p1"]).count() == 2
    call_command("ingest_notes", str(path), verbosity=0)  # again: nothing new
    assert Note.objects.filter(patient=ward["p1"]).count() == 2


def test_it_treats_crlf_and_trailing_space_as_the_same_note():
    assert note_content_hash("a line  \r\nnext\r\n") == note_content_hash("a line\nnext\n")


def test_a_malformed_file_changes_nothing_and_names_the_lines(ward, tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(row()) + "\n{not json\n" + json.dumps(row(mrn="NOPE-9")) + "\n")
    with pytest.raises(CommandError):
        call_command("ingest_notes", str(path), verbosity=0)
    err = capsys.readouterr().err
    assert "bad.jsonl:2: invalid JSON" in err
    assert Note.objects.count() == 0


def test_an_unknown_patient_rejects_the_whole_file(ward, tmp_path, capsys):
    path = write_jsonl(tmp_path / "n.jsonl", [row(), row(mrn="NOPE-9", text="other")])
    with pytest.raises(CommandError):
        call_command("ingest_notes", str(path), verbosity=0)
    assert "n.jsonl:2: unknown patient MRN 'NOPE-9'" in capsys.readouterr().err
    assert Note.objects.count() == 0


def test_it_reads_csv_with_quoted_multiline_text_and_creates_patients(db, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text(
        "mrn,note_type,authored_at,author,text,family_name,given_name,birth_date,sex,unit\n"
        'N-1,nursing,2026-11-19 07:00,RN Kim,"S: pt reports pain 4/10.\nA: stable.",Ito,Ken,1950-02-03,male,4W\n'
    )
    call_command("ingest_notes", str(path), verbosity=0)
    patient = Patient.objects.get(mrn="N-1")
    assert (patient.family_name, patient.unit, str(patient.birth_date)) == ("Ito", "4W", "1950-02-03")
    assert patient.notes.get().text == "S: pt reports pain 4/10.\nA: stable."


def test_it_rejects_a_csv_without_required_columns(db, tmp_path, capsys):
    path = tmp_path / "notes.csv"
    path.write_text("mrn,text\nT-1,hello\n")
    with pytest.raises(CommandError):
        call_command("ingest_notes", str(path), verbosity=0)
    assert "lacks column(s): note_type, authored_at, author" in capsys.readouterr().err


def test_it_reads_a_windows_1252_file_with_a_warning(ward, tmp_path, capsys):
    path = tmp_path / "note.txt"
    path.write_bytes("Temp 38.5 \xb0C, caf\xe9 au lait spots.".encode("latin-1"))
    call_command("ingest_notes", str(path), mrn="T-001", verbosity=0)
    assert Note.objects.get().text == "Temp 38.5 °C, café au lait spots."
    assert "not UTF-8" in capsys.readouterr().err


def test_it_rejects_empty_and_oversized_notes(ward, settings):
    settings.NOTE_MAX_CHARS = 1000
    with pytest.raises(IngestError) as exc:
        notes_ingest(notes=[note_record("T-001", "   ", line=1), note_record("T-001", "x" * 1001, line=2)])
    assert exc.value.problems == [(1, "empty note text"), (2, "note has 1,001 characters; the limit is 1,000")]
    assert Note.objects.count() == 0


def test_conflicting_demographics_are_rejected(ward):
    from clinsum.charts.records import PatientRecord

    with pytest.raises(IngestError) as exc:
        notes_ingest(notes=[note_record("T-001", "ok")],
                     patients=[PatientRecord(mrn="T-001", family_name="Someone-Else")])
    assert "family name differ" in str(exc.value)
    assert Note.objects.count() == 0


def test_plain_text_notes_need_a_patient(db, tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(CommandError, match="--mrn"):
        call_command("ingest_notes", str(tmp_path), verbosity=0)
