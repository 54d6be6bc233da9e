import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from clinsum.charts.models import NoteType, Patient

# Non-note targets of a policy; a note policy's target is a NoteType value.
TARGET_SUMMARY = "summary"
TARGET_DRAFT = "draft"
TARGET_QUESTION = "question"
TARGET_SESSION = "session"


def retention_target_choices() -> list[tuple[str, str]]:
    return [
        *[(value, f"Notes: {label}") for value, label in NoteType.choices],
        (TARGET_SUMMARY, "Summaries"),
        (TARGET_DRAFT, "Unsigned drafts"),
        (TARGET_QUESTION, "Questions asked of a chart, with their answers"),
        (TARGET_SESSION, "Expired login sessions"),
    ]


class RetentionPolicy(models.Model):
    """Rows of `target` older than keep_days are purged (notes by authored_at, summaries and
    drafts by created_at, sessions by expiry), except for patients under a legal hold."""

    target = models.CharField(max_length=32, choices=retention_target_choices, unique=True)
    keep_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Clinical notes kept for less than RETENTION_NOTE_FLOOR_DAYS need a second administrator:
    # the requested change waits here, and changes nothing, until another admin approves it.
    pending_keep_days = models.PositiveIntegerField(null=True, blank=True)
    pending_active = models.BooleanField(null=True, blank=True)
    pending_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pending_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["target"]
        verbose_name_plural = "retention policies"

    def __str__(self) -> str:
        return f"RetentionPolicy {self.pk} ({self.target})"

    def is_note_policy(self) -> bool:
        return self.target in NoteType.values

    def has_pending_change(self) -> bool:
        return self.pending_keep_days is not None


class LegalHold(models.Model):
    """While released_at is empty, nothing of this patient is purged."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="legal_holds")
    reason = models.CharField(max_length=500)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    placed_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(
                fields=["patient"], condition=models.Q(released_at__isnull=True), name="legalhold_active_patient"
            )
        ]

    def __str__(self) -> str:
        return f"LegalHold {self.pk}"

    def is_active(self) -> bool:
        return self.released_at is None


class ReceiptStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    PARTIAL = "partial", "Stopped at the round limit; the next run continues"
    INTERRUPTED = "interrupted", "Interrupted; sealed by the next run, which continues"


class DeletionReceipt(models.Model):
    """What one purge run deleted: counts per kind and the SHA-256 of the sorted list of deleted
    ids (see clinsum.retention.purge.receipt_digest), never content. Rows are only ever added to;
    a finished receipt does not change."""

    run_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=ReceiptStatus.choices, default=ReceiptStatus.RUNNING)
    cutoff_now = models.DateTimeField(help_text="The 'now' every batch of this run measures expiry from")
    policies = models.JSONField(default=list, help_text="[{id, target, keep_days}] active when the run started")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, help_text="{kind: rows deleted}")
    batches = models.PositiveIntegerField(default=0)
    rounds = models.PositiveIntegerField(default=0)
    deleted_ids_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"DeletionReceipt {self.pk}"


class DeletedObject(models.Model):
    """One id deleted by a run (kind + id, no content): what the receipt's digest is computed
    over, kept so a later question ("was note 123 purged, and when?") has an answer."""

    receipt = models.ForeignKey(DeletionReceipt, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=16)
    object_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["receipt", "kind", "object_id"], name="deletedobject_unique")]

    def __str__(self) -> str:
        return f"DeletedObject {self.kind}:{self.object_id}"
