"""The embed task after a job indexed the same notes inline: found running `make run`, where a
clinician asked for a summary while the demo ward's embed tasks were still queued. The summary
indexed its patient's notes and cited their chunks; the queued task then replaced those chunks
and failed on the citations (IntegrityError), over and over."""

from unittest import mock

from clinsum.charts.indexing import notes_index
from clinsum.charts.models import Chunk, EmbeddingStatus, Note
from clinsum.charts.services import notes_ingest
from clinsum.charts.tasks import notes_embed
from clinsum.summaries.generation.sources import patient_index_pending
from clinsum.summaries.models import Citation, Claim, Summary
from tests.conftest import note_record
from tests.retrieval.fakes import FakeEmbedder


def _cited_note(ward, clinician):
    note_id = notes_ingest(
        notes=[note_record("T-001", "Potassium 3.1, repleted with KCl 40 mEq.")], enqueue=False
    ).note_ids[0]
    with mock.patch("clinsum.charts.indexing.embedder_get", return_value=FakeEmbedder()):
        patient_index_pending(patient_id=ward["p1"].pk)  # what a summary job does first
    chunk = Chunk.objects.get(note_id=note_id)
    summary = Summary.objects.create(
        patient=ward["p1"], requested_by=clinician, backend="extractive", status="done", fingerprint="x"
    )
    claim = Claim.objects.create(summary=summary, section="labs", ordinal=0, text="Potassium 3.1", verdict="supported")
    Citation.objects.create(
        claim=claim,
        chunk=chunk,
        note_id=note_id,
        source_id="S1",
        char_start=0,
        char_end=13,
        quote="Potassium 3.1",
        found=True,
    )
    return note_id, chunk


def test_the_queued_embed_task_leaves_an_indexed_and_cited_note_alone(db, ward, clinician):
    note_id, chunk = _cited_note(ward, clinician)
    with mock.patch("clinsum.charts.indexing.embedder_get", return_value=FakeEmbedder()):
        assert notes_embed(note_ids=[note_id]) == 0  # the task's body, as the worker runs it
    assert list(Chunk.objects.filter(note_id=note_id).values_list("pk", flat=True)) == [chunk.pk]
    assert Note.objects.get(pk=note_id).embedding_status == EmbeddingStatus.DONE


def test_an_explicit_reindex_still_replaces_the_chunks(db, ward, clinician):
    note_id = notes_ingest(notes=[note_record("T-001", "Afebrile overnight.")], enqueue=False).note_ids[0]
    first = notes_index(note_ids=[note_id], embedder=FakeEmbedder())
    before = set(Chunk.objects.filter(note_id=note_id).values_list("pk", flat=True))
    assert notes_index(note_ids=[note_id], embedder=FakeEmbedder()) == first
    assert set(Chunk.objects.filter(note_id=note_id).values_list("pk", flat=True)).isdisjoint(before)
