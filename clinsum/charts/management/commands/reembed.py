"""manage.py reembed [--batch N] [--model-path P]: re-embed every chunk whose embedding was made
by another model than the current one (after EMBEDDING_MODEL_PATH changed, or with P).

Works through notes in id order, a batch at a time, each batch committed: interrupt it and run
it again, and it carries on with what is left. Chunk ids, offsets and text stay as they are, so
citations keep pointing at the same spans; only the vectors change.

--failed first tries again the notes whose embedding was given up (marked failed by the
recovery round after CLINSUM_EMBED_MAX_TRIES tries), in this process, a batch and then, if the
batch fails, one note at a time; a note that fails again stays failed and its id is printed."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from tqdm import tqdm

from clinsum.charts.indexing import embedder_get, notes_index
from clinsum.charts.models import EmbeddingStatus, Note
from retrieval.embedding import embedder_load
from retrieval.store import chunks_reembed, chunks_stale_count, chunks_stale_for_notes, chunks_stale_note_ids


class Command(BaseCommand):
    help = "Re-embed chunks embedded by another model than the current one (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=64, help="notes per committed batch (default 64)")
        parser.add_argument(
            "--model-path", default="", help="embed with the model in this directory instead of EMBEDDING_MODEL_PATH"
        )
        parser.add_argument(
            "--failed", action="store_true", help="first try again the notes whose embedding failed (marked failed)"
        )

    def handle(self, *args, batch: int, model_path: str, failed: bool = False, **opts):
        if batch <= 0:
            raise CommandError("--batch must be > 0")
        try:
            embedder = (
                embedder_load(
                    path=model_path,
                    device=settings.EMBEDDING_DEVICE,
                    batch_size=settings.EMBEDDING_BATCH_SIZE,
                    backend=settings.EMBEDDING_BACKEND,
                    cache_dir=settings.EMBEDDING_CACHE_DIR,
                )
                if model_path
                else embedder_get()
            )
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        if failed:
            self._retry_failed(embedder, batch=batch)
        started = time.monotonic()
        with connection.cursor() as cursor:
            stale_notes, stale_chunks = chunks_stale_count(cursor, model_name=embedder.name)
        self.stdout.write(
            f"{stale_chunks} chunks of {stale_notes} notes to re-embed with {embedder.name} ({embedder.dim} dimensions)"
        )
        done_notes = done_chunks = 0
        last = 0
        with tqdm(total=stale_notes, unit="note", disable=opts["verbosity"] == 0 or not stale_notes) as bar:
            while True:
                with transaction.atomic(), connection.cursor() as cursor:
                    note_ids = chunks_stale_note_ids(cursor, model_name=embedder.name, after_note_id=last, limit=batch)
                    if not note_ids:
                        break
                    rows = chunks_stale_for_notes(cursor, note_ids=note_ids, model_name=embedder.name)
                    vectors = embedder.encode([text for _, text in rows])
                    done_chunks += chunks_reembed(
                        cursor, chunk_ids=[i for i, _ in rows], vectors=vectors, model_name=embedder.name
                    )
                last = note_ids[-1]
                done_notes += len(note_ids)
                bar.update(len(note_ids))
        self.stdout.write(
            f"re-embedded {done_chunks} chunks of {done_notes} notes in {time.monotonic() - started:.1f} s"
        )

    def _retry_failed(self, embedder, *, batch: int) -> None:
        indexed, still = 0, []
        last = 0
        while True:
            note_ids = list(
                Note.objects.filter(embedding_status=EmbeddingStatus.FAILED, pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not note_ids:
                break
            last = note_ids[-1]
            try:
                notes_index(note_ids=note_ids, embedder=embedder, only_pending=True)
                indexed += len(note_ids)
                continue
            except Exception:  # one note of the batch may be the one that fails: try each alone
                pass
            for note_id in note_ids:
                try:
                    notes_index(note_ids=[note_id], embedder=embedder, only_pending=True)
                    indexed += 1
                except Exception as exc:
                    still.append(note_id)
                    self.stderr.write(f"note {note_id}: embedding failed again ({type(exc).__name__})")
        self.stdout.write(f"failed notes tried again: {indexed} indexed, {len(still)} still failed")
