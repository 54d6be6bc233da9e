"""A nurse's draft: sentences (generated with citations, or written by the nurse) in the
sections of its kind. Signing turns it into a Note; the draft then stays, read-only, as the
note's provenance (which sentence came from which source), and goes when that note goes."""

from django.conf import settings
from django.db import models

from clinsum.charts.models import Note, Patient
from clinsum.summaries.generation.models import CitedSpan, GenerationJob

from .kinds import DRAFT_KINDS


class DraftStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Drafting"
    READY = "ready", "Ready for review"
    FAILED = "failed", "Failed"
    SIGNED = "signed", "Signed"


class Draft(GenerationJob):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="drafts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drafts")
    kind = models.CharField(max_length=32, choices=[(k.key, k.title) for k in DRAFT_KINDS.values()])
    status = models.CharField(max_length=16, choices=DraftStatus.choices, default=DraftStatus.QUEUED)
    revision = models.PositiveIntegerField(default=0, help_text="Bumped by every edit; stale edits are refused")
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_note = models.OneToOneField(Note, on_delete=models.CASCADE, null=True, blank=True, related_name="draft")

    class Meta(GenerationJob.Meta):
        indexes = [models.Index(fields=["author", "-created_at"], name="draft_author_recent")]

    def __str__(self) -> str:
        return f"Draft {self.pk}"

    def is_finished(self) -> bool:
        return self.status in (DraftStatus.READY, DraftStatus.FAILED, DraftStatus.SIGNED)

    def is_editable(self) -> bool:
        return self.status == DraftStatus.READY


class Origin(models.TextChoices):
    GENERATED = "generated", "Drafted from the chart"
    EDITED = "edited", "Edited by the nurse"
    ADDED = "added", "Written by the nurse"


class DraftSentence(models.Model):
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="sentences")
    section = models.CharField(max_length=64)
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    origin = models.CharField(max_length=16, choices=Origin.choices)
    verdict = models.CharField(max_length=20, blank=True, help_text="Generated sentences only")
    verdict_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["draft_id", "section", "ordinal"]

    def __str__(self) -> str:
        return f"DraftSentence {self.pk}"

    @property
    def nurse_written(self) -> bool:
        return self.origin != Origin.GENERATED


class DraftCitation(CitedSpan):
    sentence = models.ForeignKey(DraftSentence, on_delete=models.CASCADE, related_name="citations")

    class Meta:
        ordering = ["sentence_id", "id"]

    def __str__(self) -> str:
        return f"DraftCitation {self.pk}"
