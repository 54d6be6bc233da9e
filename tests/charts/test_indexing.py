"""The embed task after a job indexed the same notes inline: found running `make run`, where a
clinician asked for a summary while the demo ward's embed tasks were still queued. The summary
indexed its patient's notes and cited their chunks; the queued task then replaced those chunks
and failed on the citations (IntegrityError), over and over."""

from dataclasses import replace
from unittest import mock

from django.urls import reverse

from clinsum.charts.indexing import notes_index
from clinsum.charts.models import Chunk, EmbeddingStatus, Note
from clinsum.charts.services import notes_ingest
from clinsum.charts.tasks import notes_embed
from clinsum.drafting.kinds import DRAFT_KINDS
from clinsum.drafting.models import Draft, DraftCitation, DraftSentence
from clinsum.summaries.generation.sources import patient_index_pending
from clinsum.summaries.models import Citation, Claim, Summary
from tests.accounts.mfa import login_verified
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
    claim = Claim.objects.create(
        summary=summary, section="recent_events", ordinal=0, text="Potassium 3.1", verdict="supported"
    )
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


def _assert_citation_kept(client, clinician, note_id, chunk):
    """The citation of a replaced chunk keeps its note span and loses only the chunk link; the
    summary page and the cited-note page still show it."""
    assert not Chunk.objects.filter(pk=chunk.pk).exists() and Chunk.objects.filter(note_id=note_id).exists()
    citation = Citation.objects.get()
    assert citation.chunk_id is None
    assert (citation.note_id, citation.char_start, citation.char_end, citation.quote) == (
        note_id,
        0,
        13,
        "Potassium 3.1",
    )
    login_verified(client, clinician)
    page = client.get(reverse("summary_detail", args=[citation.claim.summary_id]))
    assert page.status_code == 200
    assert reverse("citation_detail", args=[citation.pk]) in page.content.decode()
    assert client.get(reverse("citation_detail", args=[citation.pk])).status_code == 200


def test_reindexing_a_cited_note_keeps_its_citation_without_the_chunk(db, ward, clinician, client):
    note_id, chunk = _cited_note(ward, clinician)
    # What `manage.py reembed` does: the raw DELETE of the chunks must not fail on the citation.
    assert notes_index(note_ids=[note_id], embedder=FakeEmbedder()) >= 1
    _assert_citation_kept(client, clinician, note_id, chunk)


def test_an_amended_cited_note_is_indexed_and_keeps_its_citation(db, ward, clinician, client):
    record = replace(note_record("T-001", "Potassium 3.1, repleted with KCl 40 mEq."), source_id="lab-7")
    note_id = notes_ingest(notes=[record], enqueue=False).note_ids[0]
    notes_index(note_ids=[note_id], embedder=FakeEmbedder())
    chunk = Chunk.objects.get(note_id=note_id)
    summary = Summary.objects.create(
        patient=ward["p1"], requested_by=clinician, backend="extractive", status="done", fingerprint="x"
    )
    claim = Claim.objects.create(
        summary=summary, section="recent_events", ordinal=0, text="Potassium 3.1", verdict="supported"
    )
    Citation.objects.create(
        claim=claim, chunk=chunk, note_id=note_id, source_id="S1", char_start=0, char_end=13, quote="Potassium 3.1"
    )
    amended = replace(record, text="Potassium 3.1, repleted with KCl 40 mEq; recheck 3.8.")
    assert notes_ingest(notes=[amended], enqueue=False).notes_amended == 1
    # The amendment indexed twice (a queued task and an explicit re-index): each replaces chunks.
    notes_index(note_ids=[note_id], embedder=FakeEmbedder())
    notes_index(note_ids=[note_id], embedder=FakeEmbedder())
    _assert_citation_kept(client, clinician, note_id, chunk)


def test_reindexing_a_note_a_draft_cites_keeps_the_draft_citation(db, ward, clinician, nurse):
    note_id, chunk = _cited_note(ward, clinician)
    draft = Draft.objects.create(patient=ward["p1"], author=nurse, kind=next(iter(DRAFT_KINDS)), backend="extractive")
    sentence = DraftSentence.objects.create(draft=draft, section="s", ordinal=0, text="K 3.1", origin="generated")
    cited = DraftCitation.objects.create(
        sentence=sentence,
        chunk=chunk,
        note_id=note_id,
        source_id="S1",
        char_start=0,
        char_end=13,
        quote="Potassium 3.1",
    )
    notes_index(note_ids=[note_id], embedder=FakeEmbedder())
    cited.refresh_from_db()
    assert cited.chunk_id is None and (cited.note_id, cited.char_start, cited.char_end) == (note_id, 0, 13)


def test_a_summary_job_indexes_the_pending_notes_and_leaves_the_failed_ones(db, ward):
    class Poisoned(FakeEmbedder):
        def encode(self, texts):
            if any("POISON" in t for t in texts):
                raise RuntimeError("the model crashed")
            return super().encode(texts)

    pending, failed = notes_ingest(
        notes=[note_record("T-001", "Afebrile overnight."), note_record("T-001", "POISON note.", days_ago=2)],
        enqueue=False,
    ).note_ids
    Note.objects.filter(pk=failed).update(embedding_status=EmbeddingStatus.FAILED)
    with mock.patch("clinsum.charts.indexing.embedder_get", return_value=Poisoned()):
        patient_index_pending(patient_id=ward["p1"].pk)  # the failed note would crash it: not tried
    assert Note.objects.get(pk=pending).embedding_status == EmbeddingStatus.DONE
    assert Note.objects.get(pk=failed).embedding_status == EmbeddingStatus.FAILED
