"""Checkpoint files: the chain head written, on a schedule, where the database cannot reach.

A checkpoint stored in the database proves nothing against someone who can rewrite the database:
they rewrite the checkpoints too. So Celery beat writes one to AUDIT_CHECKPOINT_DIR every
AUDIT_CHECKPOINT_EVERY_MIN minutes, a directory meant for write-once storage (a WORM share, an
object-lock bucket mount, or at least a directory with `chattr +a`). Each file is created new
(never overwritten) and left read-only. audit_verify compares the chain with the newest file by
default, which catches a row edited and the rest re-hashed, and events cut off the end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings

from .services import audit_checkpoint_create
from .verification import Checkpoint, CheckpointError, checkpoint_load

FILE_PREFIX = "audit-checkpoint-"


def checkpoint_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def checkpoint_file_write(directory: Path | None = None) -> Path:
    """Record the head (a stored AuditCheckpoint) and write it to a new, read-only file."""
    directory = Path(directory or checkpoint_dir())
    directory.mkdir(parents=True, exist_ok=True)
    checkpoint = audit_checkpoint_create()
    stamp = checkpoint.at.strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"{FILE_PREFIX}{checkpoint.seq:012d}-{stamp}.json"
    data = (json.dumps(checkpoint.as_dict(), sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)  # never overwrite one
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def checkpoint_newest(directory: Path | None = None) -> Checkpoint | None:
    """The checkpoint file with the highest seq (the latest of equals), or None when there is none.
    A file that cannot be read is an error: a damaged checkpoint store must be looked at."""
    directory = Path(directory or checkpoint_dir())
    if not directory.is_dir():
        return None
    newest, newest_key = None, None
    for path in directory.glob(f"{FILE_PREFIX}*.json"):
        checkpoint = checkpoint_load(path)
        key = (checkpoint.seq, path.name)
        if newest_key is None or key > newest_key:
            newest, newest_key = checkpoint, key
    return newest


__all__ = ["CheckpointError", "checkpoint_dir", "checkpoint_file_write", "checkpoint_newest"]
