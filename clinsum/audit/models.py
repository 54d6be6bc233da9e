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
