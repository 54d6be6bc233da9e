"""The fields of a grounded-generation job and of a cited span, once. Abstract: each job
(summaries.Summary, drafting.Draft) adds its patient, its status choices and the rows it
stores; each kind's citation rows (Citation, DraftCitation) add the row they support."""

from django.db import models

from clinsum.charts.models import Chunk, Note

# The statuses every job passes through; each job adds its own stored status ("done", "ready").
QUEUED, RUNNING, FAILED = "queued", "running", "failed"
ACTIVE = (QUEUED, RUNNING)


class GenerationJob(models.Model):
    patient_id: int  # each job's own ForeignKey to charts.Patient (a type only, not a field here)

    status = models.CharField(max_length=16, default=QUEUED)  # the job names its choices
    backend = models.CharField(max_length=32)
    model = models.CharField(max_length=200, blank=True)
    prompt_version = models.CharField(max_length=32, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="Reason shown to the user; never PHI")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last handed to the job queue; empty: not sent yet"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]


class CitedSpan(models.Model):
    """Where a generated sentence's support lies: note.text[char_start:char_end] is the quoted
    span. Shared by summary claims and nursing-draft sentences."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="+")
    # ON DELETE SET NULL in the database too (migrations summaries 0006, drafting 0006): re-indexing
    # deletes chunks with raw SQL; the citation keeps its note span and loses only this link.
    chunk = models.ForeignKey(Chunk, on_delete=models.SET_NULL, null=True, related_name="+")
    source_id = models.CharField(max_length=32, help_text="The stable id the generator cited, e.g. S3")
    quote = models.TextField(blank=True)
    char_start = models.PositiveIntegerField(null=True)
    char_end = models.PositiveIntegerField(null=True)
    found = models.BooleanField(default=False, help_text="The quote was located in the cited chunk")
    newer = models.BooleanField(
        default=False, help_text="Cited by the verifier: a newer note that contradicts the claim"
    )

    class Meta:
        abstract = True

    @staticmethod
    def fields_of(check) -> dict:
        """The stored fields of one verified citation (verification.CitationCheck with a hit)."""
        return {
            "note_id": check.hit.note_id,
            "chunk_id": check.hit.chunk_id,
            "source_id": check.source_id[:32],
            "quote": check.quote[:2000],
            "char_start": check.note_start,
            "char_end": check.note_end,
            "found": check.found,
            "newer": check.newer,
        }
