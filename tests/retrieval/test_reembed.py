"""manage.py reembed: only chunks of another model, in place, resumable after an interruption."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from clinsum.charts.models import Chunk, EmbeddingStatus, Note
from tests.retrieval.fakes import FakeEmbedder, unit


@pytest.fixture
def old_chart(ward, add_note):
    for i in range(3):
        add_note(
            ward["p1"],
            [(f"Note {i} first.", unit(1, i, 0, 0)), (f"Note {i} second.", unit(0, 1, i, 0))],
            model="old-model",
        )
    add_note(ward["p2"], [("Already current.", unit(1, 0, 0, 0))], model="new-model")


def test_it_reembeds_only_stale_chunks_in_place_and_resumes(old_chart, monkeypatch, capsys):
    before = dict(Chunk.objects.values_list("id", "text"))
    current = Chunk.objects.get(embedding_model="new-model")

    class Interrupted(FakeEmbedder):
        def encode(self, texts):
            if self.calls == 1:  # the second batch dies
                raise KeyboardInterrupt
            return super().encode(texts)

    monkeypatch.setattr(
        "clinsum.charts.management.commands.reembed.embedder_get", lambda: Interrupted(name="new-model", dim=4)
    )
    with pytest.raises(KeyboardInterrupt):
        call_command("reembed", batch=1, verbosity=0)
    assert Chunk.objects.filter(embedding_model="new-model").count() == 1 + 2  # the first note's batch stayed

    monkeypatch.setattr(
        "clinsum.charts.management.commands.reembed.embedder_get", lambda: FakeEmbedder(name="new-model", dim=4)
    )
    call_command("reembed", batch=2, verbosity=0)
    assert "re-embedded 4 chunks of 2 notes" in capsys.readouterr().out
    assert set(Chunk.objects.values_list("embedding_model", "embedding_dim")) == {("new-model", 4)}
    assert dict(Chunk.objects.values_list("id", "text")) == before  # same rows, same spans
    assert list(Chunk.objects.get(pk=current.pk).embedding) == list(current.embedding)  # untouched

    call_command("reembed", verbosity=0)  # nothing left
    assert "0 chunks of 0 notes to re-embed" in capsys.readouterr().out


def test_failed_notes_are_tried_again_and_one_that_fails_again_stays_failed(ward, monkeypatch, capsys):
    from clinsum.charts.services import notes_ingest
    from tests.conftest import note_record

    good, poison = notes_ingest(
        notes=[note_record("T-001", "Embeds fine now."), note_record("T-001", "POISON again.", days_ago=2)],
        enqueue=False,
    ).note_ids
    Note.objects.filter(pk__in=[good, poison]).update(embedding_status=EmbeddingStatus.FAILED, embedding_tries=3)

    class Poisoned(FakeEmbedder):
        def encode(self, texts):
            if any("POISON" in t for t in texts):
                raise RuntimeError("the model crashed")
            return super().encode(texts)

    monkeypatch.setattr(
        "clinsum.charts.management.commands.reembed.embedder_get", lambda: Poisoned(name="new-model", dim=4)
    )
    call_command("reembed", verbosity=0)  # without --failed, failed notes are left alone
    assert set(Note.objects.values_list("embedding_status", flat=True)) == {EmbeddingStatus.FAILED}
    capsys.readouterr()
    call_command("reembed", failed=True, verbosity=0)
    out, err = capsys.readouterr()
    assert "failed notes tried again: 1 indexed, 1 still failed" in out
    assert f"note {poison}: embedding failed again (RuntimeError)" in err and "POISON" not in err
    assert Note.objects.get(pk=good).embedding_status == EmbeddingStatus.DONE
    assert Chunk.objects.filter(note_id=good, embedding_model="new-model").exists()
    assert Note.objects.get(pk=poison).embedding_status == EmbeddingStatus.FAILED

    monkeypatch.setattr(
        "clinsum.charts.management.commands.reembed.embedder_get", lambda: FakeEmbedder(name="new-model", dim=4)
    )
    call_command("reembed", "--failed", verbosity=0)
    assert "1 indexed, 0 still failed" in capsys.readouterr().out
    assert Note.objects.get(pk=poison).embedding_status == EmbeddingStatus.DONE
