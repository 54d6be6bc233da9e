import hashlib

from django.db import models
from django.db.models import Q
from django.utils import timezone
from pgvector.django import HalfVectorField


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class NoteType(models.TextChoices):
    HISTORY_PHYSICAL = "history_physical", "History and physical"
    PROGRESS = "progress", "Progress note"
    NURSING = "nursing", "Nursing note"
    CONSULT = "consult", "Consult"
    DISCHARGE = "discharge_summary", "Discharge summary"
    DISCHARGE_INSTRUCTIONS = "discharge_instructions", "Discharge instructions"
    EMERGENCY = "emergency", "Emergency department note"
    OPERATIVE = "operative", "Operative note"
    OTHER = "other", "Other"


class Patient(models.Model):
    mrn = models.CharField("MRN", max_length=64, unique=True)
    family_name = models.CharField(max_length=128)
    given_name = models.CharField(max_length=128, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=16, choices=Sex.choices, default=Sex.UNKNOWN)
    unit = models.CharField(max_length=64, blank=True, db_index=True, help_text="Ward code")
    source_id = models.CharField(
        max_length=200, blank=True, default="", help_text="Upstream identifier (FHIR Patient.id), if any"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family_name", "given_name", "mrn"]
        constraints = [
            models.UniqueConstraint(fields=["source_id"], condition=~Q(source_id=""), name="patient_unique_source_id")
        ]

    def __str__(self) -> str:  # ids only: str() ends up in logs and admin messages
        return f"Patient {self.pk}"

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}".strip(", ")


class EmbeddingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Indexed"
    FAILED = "failed", "Failed"


NOTE_ORIGIN_IMPORT, NOTE_ORIGIN_DRAFT = "import", "draft"


class Note(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="notes")
    note_type = models.CharField(max_length=32, choices=NoteType.choices, default=NoteType.OTHER)
    author = models.CharField(max_length=200, blank=True)
    author_role = models.CharField(max_length=64, blank=True)
    authored_at = models.DateTimeField(db_index=True)
    title = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the normalised text")
    source = models.CharField(max_length=300, blank=True, help_text="Where the note came from")
    source_id = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="Upstream identifier (FHIR DocumentReference.id); the same id with new text is an amendment",
    )
    embedding_status = models.CharField(max_length=16, choices=EmbeddingStatus.choices, default=EmbeddingStatus.PENDING)
    embedding_queued_at = models.DateTimeField(
        default=timezone.now, help_text="When the note was last queued for embedding (recovery re-queues old ones)"
    )
    embedding_tries = models.PositiveSmallIntegerField(
        default=0,
        help_text="Times recovery queued the note again for embedding; after CLINSUM_EMBED_MAX_TRIES it is failed",
    )
    origin = models.CharField(
        max_length=120,
        default=NOTE_ORIGIN_IMPORT,
        help_text="Who created the note and alone may amend it: 'api:<service token>', 'draft' (a signed "
        "ClinSum draft: never amended), 'import' (files and commands run by staff)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-authored_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "content_hash"], name="note_unique_content_per_patient"),
            models.UniqueConstraint(
                fields=["patient", "source_id"], condition=~Q(source_id=""), name="note_unique_source_per_patient"
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "-authored_at"], name="note_patient_recent"),
            models.Index(
                fields=["embedding_queued_at"],
                condition=Q(embedding_status=EmbeddingStatus.PENDING),
                name="note_embedding_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"Note {self.pk}"


class NoteVersion(models.Model):
    """An earlier text of an amended note: amendments replace the current text and keep this."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="versions")
    text = models.TextField()
    content_hash = models.CharField(max_length=64)
    title = models.CharField(max_length=300, blank=True)
    note_type = models.CharField(max_length=32)
    author = models.CharField(max_length=200, blank=True)
    authored_at = models.DateTimeField()
    replaced_at = models.DateTimeField(auto_now_add=True)
    replaced_by = models.CharField(max_length=120, help_text="The origin that amended it")

    class Meta:
        ordering = ["note_id", "-replaced_at", "-id"]

    def __str__(self) -> str:
        return f"NoteVersion {self.pk}"


class Chunk(models.Model):
    """A span of a note, text == note.text[char_start:char_end], with its embedding.

    The table also has `tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED`
    with a GIN index (migration 0002), used by retrieval.search's full-text search; the ORM
    never reads it. It also has copies of its note's `note_type`, `author_role` and `authored_at`
    (migration 0011), filled and kept in step by database triggers, so that a search reads only
    the patient's chunks; the ORM does not map them either."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="chunks")
    # Denormalised so per-patient retrieval is one b-tree lookup, no join. That b-tree is
    # `chunk_patient` (Meta.indexes); the foreign key's own index would be a second copy.
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+", db_index=False)
    ordinal = models.PositiveIntegerField()
    char_start = models.PositiveIntegerField()
    char_end = models.PositiveIntegerField()
    section = models.CharField(max_length=120, blank=True)
    text = models.TextField()
    # Half precision (2 bytes a dimension, migration 0009); dimension set by the model, stored alongside.
    embedding = HalfVectorField(null=True)
    embedding_model = models.CharField(max_length=200, blank=True)
    embedding_dim = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["note_id", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["note", "ordinal"], name="chunk_unique_ordinal")]
        indexes = [models.Index(fields=["patient"], name="chunk_patient")]

    def __str__(self) -> str:
        return f"Chunk {self.pk}"


def service_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServiceToken(models.Model):
    """A machine client (the interface engine) posting FHIR bundles. Only the SHA-256 of the
    token is stored; the token itself is shown once, when it is created."""

    name = models.CharField(max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ServiceToken {self.pk}"
