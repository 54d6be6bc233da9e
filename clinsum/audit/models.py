from django.db import models


class AuditEvent(models.Model):
    """One read of PHI or one security-relevant write. Append-only and hash-chained:
    hash = SHA-256(prev_hash + canonical JSON of the row's fields). Never holds note text."""

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, db_index=True)  # no FK: rows are immutable, users are not
    actor_username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    patient_id = models.BigIntegerField(null=True, db_index=True)  # no FK: events outlive purged rows
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, default="ok")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"AuditEvent {self.seq}"


class AuditCheckpoint(models.Model):
    """The chain head (seq, hash) at one moment. Append-only, like the events.

    This table is the app's own history of checkpoints; what makes a rewritten chain detectable
    is the copy kept OFF the box (the JSON that `manage.py audit_checkpoint --out` writes, sent
    to write-once storage or another system): whoever can rewrite the events can rewrite this
    table too, but not that copy. `audit_verify --checkpoint FILE` checks against it."""

    seq = models.BigIntegerField()  # 0 for a checkpoint of an empty chain
    hash = models.CharField(max_length=64)
    count = models.BigIntegerField(help_text="Events in the table when the checkpoint was taken")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"AuditCheckpoint {self.pk} (seq {self.seq})"

    def as_dict(self) -> dict:
        return {"seq": self.seq, "hash": self.hash, "count": self.count, "at": self.at.isoformat()}


class AuditArchive(models.Model):
    """The anchor left behind when events first_seq..last_seq were exported and removed.
    The first remaining event must chain from last_hash. Append-only."""

    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField(unique=True)
    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField()
    before = models.DateTimeField(help_text="Every archived event is older than this")
    file_name = models.CharField(max_length=300)
    file_sha256 = models.CharField(max_length=64)
    checkpoint = models.ForeignKey(AuditCheckpoint, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-last_seq"]

    def __str__(self) -> str:
        return f"AuditArchive {self.first_seq}-{self.last_seq}"
