import csv
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinsum.charts.models import Note, Patient

CSV_HEADER = "mrn,note_type,authored_at,author,text\n"


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def row(mrn="T-001", text="Patient stable overnight. Denies chest pain.", **extra):
    return {
        "mrn": mrn,
        "note_type": "progress",
        "authored_at": "2026-11-19T08:00:00Z",
        "author": "Dr. Test",
        "text": text,
        **extra,
    }


def test_it_ingests_jsonl_and_deduplicates_by_content(ward, tmp_path):
    path = write_jsonl(tmp_path / "notes.jsonl", [row(), row(text="Second note. Lasix 40 mg IV given.")])
    call_command("ingest_notes", str(path), verbosity=0)
    assert Note.objects.filter(patient=ward["p1"]).count() == 2
    call_command("ingest_notes", str(path), verbosity=0)  # again: nothing new
    assert Note.objects.filter(patient=ward["p1"]).count() == 2


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


def test_plain_text_notes_need_a_patient(db, tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(CommandError, match="--mrn"):
        call_command("ingest_notes", str(tmp_path), verbosity=0)


NURSING_SAMPLE = (
    "START_OF_RECORD=1||||1||||\nO: BP 98/50, dopamine weaned. A: stable. P: trend BP.\n\n||||END_OF_RECORD\n\n"
    "START_OF_RECORD=1||||2||||\nO: BUN 50; CR 2.1. A: renal insufficiency.\n\n||||END_OF_RECORD\n\n"
    "START_OF_RECORD=2||||1||||\npre medicated with 100 mcg of fentanyl\n\n||||END_OF_RECORD\n\n"
)


def test_it_reads_the_nursing_notes_corpus_format(db, tmp_path):
    path = tmp_path / "nursing-notes.txt"
    path.write_text(NURSING_SAMPLE)
    call_command("ingest_notes", str(path), patient_per_file=True, authored_at="2026-11-01T00:00:00Z", verbosity=0)
    assert sorted(Patient.objects.values_list("mrn", flat=True)) == ["DEID-1", "DEID-2"]
    notes = list(Note.objects.filter(patient__mrn="DEID-1").order_by("authored_at"))
    assert [n.source_id for n in notes] == ["1-1", "1-2"]
    assert notes[0].text == "O: BP 98/50, dopamine weaned. A: stable. P: trend BP."
    assert notes[0].note_type == "nursing" and notes[1].source == "nursing-notes.txt:6"
    call_command("ingest_notes", str(path), patient_per_file=True, authored_at="2026-11-01T00:00:00Z", verbosity=0)
    assert Note.objects.count() == 3


def test_the_nursing_corpus_needs_patient_per_file(db, tmp_path):
    path = tmp_path / "nursing-notes.txt"
    path.write_text(NURSING_SAMPLE)
    with pytest.raises(CommandError, match="--patient-per-file"):
        call_command("ingest_notes", str(path), verbosity=0)


def test_a_broken_nursing_record_is_named(db, tmp_path, capsys):
    path = tmp_path / "nursing-notes.txt"
    path.write_text(NURSING_SAMPLE + "START_OF_RECORD=3||||1||||\nno end marker\n")
    with pytest.raises(CommandError):
        call_command("ingest_notes", str(path), patient_per_file=True, verbosity=0)
    assert "nursing-notes.txt:16: record has no ||||END_OF_RECORD" in capsys.readouterr().err
    assert Note.objects.count() == 0


def test_a_jsonl_table_is_not_mistaken_for_fhir(ward, tmp_path):
    from clinsum.charts.ingest import file_kind

    path = write_jsonl(tmp_path / "notes.ndjson", [row()])
    assert file_kind(path) == "table"
    (tmp_path / "fhir.ndjson").write_text('{"resourceType": "Patient", "id": "x"}\n')
    assert file_kind(tmp_path / "fhir.ndjson") == "fhir-ndjson"


def test_embed_now_indexes_inline_and_reports_chunks(ward, tmp_path, monkeypatch, capsys):
    from clinsum.charts.models import Chunk, EmbeddingStatus
    from tests.retrieval.fakes import FakeEmbedder

    monkeypatch.setattr("clinsum.charts.indexing.embedder_get", lambda: FakeEmbedder())
    path = write_jsonl(tmp_path / "notes.jsonl", [row(), row(text="HPI: chest pain.\nPLAN: admit to telemetry.")])
    call_command("ingest_notes", str(path), embed_now=True, verbosity=0)
    out = capsys.readouterr().out
    assert "notes new 2, unchanged 0, amended 0, refused 0" in out
    assert f"chunks written {Chunk.objects.count()};" in out and Chunk.objects.count() >= 3
    assert set(Note.objects.values_list("embedding_status", flat=True)) == {EmbeddingStatus.DONE}


def test_a_rejected_file_is_counted_in_the_report(ward, tmp_path, capsys):
    path = write_jsonl(tmp_path / "n.jsonl", [row(), row(mrn="NOPE-9", text="other")])
    with pytest.raises(CommandError):
        call_command("ingest_notes", str(path), verbosity=0)
    assert "Total: 1 file read, 1 rejected; notes new 0, unchanged 0, amended 0, refused 2;" in capsys.readouterr().out


def test_a_folder_reports_how_many_files_it_read(ward, tmp_path, capsys):
    write_jsonl(tmp_path / "a.jsonl", [row()])
    write_jsonl(tmp_path / "b.jsonl", [row(text="Second note. Lasix 40 mg IV given.")])
    (tmp_path / "c.txt").write_text("Third note. Ambulating in the hallway.")
    call_command("ingest_notes", str(tmp_path), mrn="T-001", verbosity=0)
    out = capsys.readouterr().out
    assert "Total: 3 files read, 0 rejected; notes new 3, unchanged 0, amended 0, refused 0;" in out
    assert "file(s)" not in out


# --- malformed input: one line per problem, nothing of the bad file stored, the run goes on ----

LONG = "x" * 129


def _bad_rows():
    """(id, rows of the bad file, what its error line says)."""
    new = {"mrn": "B-1", "family_name": "Vance", "given_name": "Ola", "birth_date": "1960-01-02", "unit": "4W"}
    return [
        ("nul-mrn", [row(mrn="T-0\x0001")], "mrn contains a NUL byte"),
        ("nul-family", [row(**new, text="n") | {"family_name": "Va\x00nce"}], "family_name contains a NUL byte"),
        ("nul-unit", [row(**new) | {"unit": "4\x00W"}], "unit contains a NUL byte"),
        ("nul-author", [row(author="Dr\x00X")], "author contains a NUL byte"),
        ("nul-title", [row(title="T\x00")], "title contains a NUL byte"),
        ("nul-text", [row(text="a\x00b")], "NUL bytes"),
        ("surrogate-text", [row(text="a\ud800b")], "unpaired surrogate"),
        ("long-mrn", [row(mrn="M" * 65)], "mrn has 65 characters; the limit is 64"),
        ("long-family", [row(**new) | {"family_name": LONG}], "family_name has 129 characters; the limit is 128"),
        ("long-author", [row(author="a" * 201)], "author has 201 characters; the limit is 200"),
        ("list-text", [row(text=["x"])], "text must be a string, not list"),
        ("dict-title", [row(title={"a": 1})], "title must be a string, not dict"),
        ("number-mrn", [row(mrn=12)], "mrn must be a string, not int"),
        ("list-mrn", [row(mrn=["x"])], "mrn must be a string, not list"),
        ("list-family", [row(**new) | {"family_name": ["V"]}], "family_name must be a string, not list"),
        ("number-unit", [row(**new) | {"unit": 4}], "unit must be a string, not int"),
        ("far-future", [row(authored_at="9999-12-31T23:00-05:00")], "authored_at is outside 1900-01-01"),
        ("year-one", [row(authored_at="0001-01-01T00:00+01:00")], "authored_at is outside 1900-01-01"),
        ("tomorrow+", [row(authored_at="2999-01-01T00:00Z")], "authored_at is outside"),
        ("birth-year-one", [row(**new) | {"birth_date": "0001-01-01"}], "birth_date is outside 1880-01-01"),
        ("birth-future", [row(**new) | {"birth_date": "2999-01-01"}], "birth_date is outside"),
        ("bad-birth", [row(**new) | {"birth_date": "02/01/1960"}], "bad birth_date"),
        (
            "two-names",
            [row(**new), row(**new, text="Other note.") | {"family_name": "Vane"}],
            "patient B-1: family name differ from line 1 of this file",
        ),
    ]


@pytest.mark.parametrize(("rows", "expected"), [c[1:] for c in _bad_rows()], ids=[c[0] for c in _bad_rows()])
def test_a_malformed_jsonl_file_is_one_line_and_the_run_goes_on(ward, tmp_path, capsys, rows, expected):
    good = write_jsonl(tmp_path / "a-good.jsonl", [row(mrn="T-002", text="Good note.")])
    bad = write_jsonl(tmp_path / "b-bad.jsonl", rows)
    late = write_jsonl(tmp_path / "c-good.jsonl", [row(mrn="T-003", text="Later good note.")])
    patients = Patient.objects.count()
    with pytest.raises(CommandError, match="1 file"):
        call_command("ingest_notes", str(good), str(bad), str(late), verbosity=0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert any(line.startswith("  b-bad.jsonl:") and expected in line for line in err.splitlines()), err
    # Nothing of the bad file; both good files, before and after it, stored.
    assert Patient.objects.count() == patients
    assert sorted(Note.objects.values_list("patient__mrn", flat=True)) == ["T-002", "T-003"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.jsonl", "", "no notes in this file"),
        ("blank.jsonl", "\n \n", "no notes in this file"),
        ("header.csv", CSV_HEADER, "no notes in this file"),
        ("empty.csv", "", "empty CSV file"),
        ("empty.ndjson", "", "no notes in this file"),
        ("deep.jsonl", "[" * 100_000 + "\n", "nested more than 64 levels deep"),
        ("deep.ndjson", '{"resourceType": ' + "[" * 100_000 + "\n", "nested more than 64 levels deep"),
        ("deep.json", '{"resourceType": "Bundle", "x": ' + "[" * 100_000, "nested more than 64 levels deep"),
    ],
)
def test_an_empty_or_too_deeply_nested_file_is_an_error(ward, tmp_path, capsys, name, content, expected):
    (tmp_path / name).write_text(content)
    write_jsonl(tmp_path / "z-good.jsonl", [row()])
    with pytest.raises(CommandError, match="1 file"):
        call_command("ingest_notes", str(tmp_path), verbosity=0)
    err = capsys.readouterr().err
    assert "Traceback" not in err and expected in err, err
    assert Note.objects.count() == 1  # the good file after it


def test_a_csv_note_may_be_as_long_as_the_note_limit(ward, tmp_path, settings):
    text = "Stable. " * 25_000  # 200,000 characters: over csv's default field limit of 131,072
    assert len(text) <= settings.NOTE_MAX_CHARS
    path = tmp_path / "long.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["mrn", "note_type", "authored_at", "author", "text"])
        writer.writerow(["T-001", "progress", "2026-11-19T08:00Z", "Dr. A", text])
    call_command("ingest_notes", str(path), verbosity=0)
    assert Note.objects.get().text == text


def test_a_time_without_a_zone_is_the_hospitals(ward, tmp_path, settings):
    settings.TIME_ZONE = "America/New_York"
    path = write_jsonl(tmp_path / "n.jsonl", [row(authored_at="2026-11-19T08:00:00")])
    call_command("ingest_notes", str(path), verbosity=0)
    stored = Note.objects.get().authored_at
    assert stored == datetime(2026, 11, 19, 8, 0, tzinfo=ZoneInfo("America/New_York"))  # 13:00 UTC


# --- what the command says to a person (issue 17) ---------------------------------------------


def run_command(*args, **options):
    """call_command with stdout and stderr captured: (out, err, CommandError or None)."""
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest_notes", *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def test_an_unknown_mrn_says_how_to_create_the_patient(db, tmp_path):
    (tmp_path / "admit.txt").write_text("Admitted with chest pain.")
    out, err, error = run_command(str(tmp_path), mrn="NEW-77", verbosity=0)
    assert error is not None and "no patient with MRN NEW-77" in str(error)
    assert "--create-patient --family-name" in str(error) and "--unit" in str(error)
    assert Note.objects.count() == 0 and Patient.objects.count() == 0


def test_create_patient_creates_the_patient_with_its_identity(db, tmp_path):
    (tmp_path / "admit.txt").write_text("Admitted with chest pain.")
    out, err, error = run_command(
        str(tmp_path),
        mrn="NEW-77",
        create_patient=True,
        family_name="Okafor",
        given_name="Ada",
        birth_date="1950-03-02",
        sex="F",
        unit="4W",
        note_type="progress-note",
        verbosity=0,
    )
    assert error is None, err
    patient = Patient.objects.get(mrn="NEW-77")
    assert (patient.family_name, patient.given_name, str(patient.birth_date), patient.unit) == (
        "Okafor",
        "Ada",
        "1950-03-02",
        "4W",
    )
    assert patient.get_sex_display() == "Female"
    assert Note.objects.get().note_type == "progress"


def test_create_patient_fields_are_validated_like_file_records(db, tmp_path):
    (tmp_path / "admit.txt").write_text("Admitted with chest pain.")
    out, err, error = run_command(
        str(tmp_path), mrn="NEW-77", create_patient=True, birth_date="02/03/1950", sex="Q", verbosity=0
    )
    assert error is not None
    message = str(error)
    assert "--family-name is required" in message and "--birth-date" in message and "--sex" in message
    _, _, error = run_command(
        str(tmp_path), mrn="NEW-77", create_patient=True, family_name="Okafor", birth_date="2999-01-01", verbosity=0
    )
    assert error is not None and "birth_date is outside" in str(error)
    assert Patient.objects.count() == 0


def test_one_bad_line_counts_every_refused_note_and_queues_nothing(ward, tmp_path):
    path = tmp_path / "three.jsonl"
    path.write_text(json.dumps(row()) + "\n{not json\n" + json.dumps(row(text="Third note.")) + "\n")
    out, err, error = run_command(str(path), verbosity=0)
    assert error is not None
    assert "three.jsonl: rejected, nothing of it was stored (3 notes refused)" in err
    assert "1 file read, 1 rejected; notes new 0, unchanged 0, amended 0, refused 3;" in out
    assert "worker" not in out
    assert Note.objects.count() == 0


def test_counts_per_file_and_in_total(ward, tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [row(), row(text="Second note. Lasix 40 mg IV given.")])
    bad = tmp_path / "b.jsonl"
    bad.write_text(json.dumps(row(text="Refused one.")) + "\n" + json.dumps(row(mrn="NOPE-9")) + "\n")
    out, err, error = run_command(str(tmp_path), verbosity=0)
    assert error is not None
    assert f"{tmp_path / 'a.jsonl'}: stored 2 new, 0 amended, 0 already stored; 0 new patients" in out
    assert "b.jsonl: rejected, nothing of it was stored (2 notes refused)" in err
    assert "Total: 2 files read, 1 rejected; notes new 2, unchanged 0, amended 0, refused 2;" in out
    assert "2 notes queued, embedding continues in the worker" in out
    out, err, error = run_command(str(tmp_path / "a.jsonl"), verbosity=0)  # again: nothing queued
    assert "notes new 0, unchanged 2" in out and "worker" not in out


def test_note_type_aliases_are_mapped_and_unknown_types_refused(ward, tmp_path):
    rows = [row(text=f"Note {n}.", note_type=t) for n, t in enumerate(["nursing-note", "H&P", "Discharge summary"])]
    write_jsonl(tmp_path / "ok.jsonl", [*rows, row(text="LOINC.", note_type="11488-4")])
    out, err, error = run_command(str(tmp_path / "ok.jsonl"), verbosity=0)
    assert error is None, err
    assert sorted(Note.objects.values_list("note_type", flat=True)) == [
        "consult",
        "discharge_summary",
        "history_physical",
        "nursing",
    ]
    write_jsonl(tmp_path / "bad.jsonl", [row(text="x", note_type="telepathy-note")])
    out, err, error = run_command(str(tmp_path / "bad.jsonl"), verbosity=0)
    assert error is not None
    assert "bad.jsonl:1: unknown note_type; accepted: history_physical (History and physical)" in err
    assert "nursing (Nursing note)" in err
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "n.txt").write_text("Quiet night.")
    _, _, error = run_command(str(tmp_path / "t"), mrn="T-001", note_type="telepathy", verbosity=0)
    assert error is not None and "--note-type: unknown note type; accepted:" in str(error)
    assert Note.objects.count() == 4


def test_sex_letters_are_stored_as_female_and_male(db, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text(
        "mrn,note_type,authored_at,author,text,family_name,sex,unit\n"
        "S-1,progress,2026-11-19T08:00:00Z,Dr A,Stable.,Ito,F,4W\n"
        "S-2,progress,2026-11-19T08:00:00Z,Dr A,Stable too.,Rao,m,4W\n"
    )
    out, err, error = run_command(str(path), verbosity=0)
    assert error is None, err
    shown = {p.mrn: p.get_sex_display() for p in Patient.objects.all()}
    assert shown == {"S-1": "Female", "S-2": "Male"}


def test_the_command_output_has_no_json_log_lines(ward, tmp_path):
    import io
    import logging

    console = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    logs = io.StringIO()
    stream = console.setStream(logs)
    try:
        write_jsonl(tmp_path / "a.jsonl", [row()])
        out, err, error = run_command(str(tmp_path / "a.jsonl"), verbosity=1)
        quiet_logs = logs.getvalue()
        write_jsonl(tmp_path / "b.jsonl", [row(text="Another note.")])
        run_command(str(tmp_path / "b.jsonl"), verbosity=2)  # -v 2: the operator asked for the logs
        loud_logs = logs.getvalue()[len(quiet_logs) :]
    finally:
        console.setStream(stream)
    assert error is None
    for text in (out, err, quiet_logs):
        assert not [line for line in text.splitlines() if line.lstrip().startswith("{")]
    assert "ingest committed" in loud_logs
