"""Plain data passed between chunking, embedding, storage and search. No Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ChunkSpan:
    """A piece of a note: text == note_text[char_start:char_end]."""

    ordinal: int
    char_start: int
    char_end: int
    section: str
    text: str


@dataclass(frozen=True)
class AccessScope:
    """Which patients a reader may see, applied inside the retrieval SQL (store.scope_sql).

    A person's scope comes from clinsum.access.selectors.access_scope, the one access rule:
    their unit, their care teams (user_id) and the patients of their break-glass grants in
    force. Empty: nobody. unrestricted: every patient (benchmarks and tests; no user).
    """

    units: tuple[str, ...] = ()
    user_id: int | None = None
    patient_ids: tuple[int, ...] = ()
    unrestricted: bool = False


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk; keeps its source (note, patient, offsets) with it."""

    chunk_id: int
    note_id: int
    patient_id: int
    ordinal: int
    char_start: int
    char_end: int
    section: str
    text: str
    score: float
    note_type: str = ""
    authored_at: datetime | None = None
    author_role: str = ""
    extra: dict = field(default_factory=dict)
