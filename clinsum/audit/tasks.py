"""Scheduled audit work (Celery beat)."""

from celery import shared_task

from .checkpoints import checkpoint_file_write


@shared_task(name="clinsum.audit.tasks.audit_checkpoint", queue="default", acks_late=True)
def audit_checkpoint() -> str:
    """Write the chain head to AUDIT_CHECKPOINT_DIR; returns the file name (no PHI in it)."""
    return checkpoint_file_write().name
