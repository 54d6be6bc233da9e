"""The stay as the notes show it: admission, procedures, transfers, discharge.

Derived from each note's type and title only (no note text is read): a history and physical
or an admission note marks the admission, an emergency department note the arrival, an
operative or procedure note a procedure, a transfer note a transfer, a discharge summary the
discharge. Nothing is inferred that no note states: a stay without a discharge summary shows
no discharge."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .models import Note, NoteType

ADMISSION, ARRIVAL, PROCEDURE, TRANSFER, DISCHARGE = (
    "Admission",
    "Emergency department",
    "Procedure",
    "Transfer",
    "Discharge",
)
# Titles that name the event themselves ("Transfer note", "Procedure note: paracentesis");
# a word in passing ("post-procedure day 1") is not an event.
_TITLE_KINDS = (
    (re.compile(r"\btransfer (note|summary)\b", re.I), TRANSFER),
    (re.compile(r"\b(procedure|operative|op) note\b", re.I), PROCEDURE),
    (re.compile(r"\badmission (note|h&p|history)\b", re.I), ADMISSION),
)
_TYPE_KINDS = {
    NoteType.HISTORY_PHYSICAL: ADMISSION,
    NoteType.EMERGENCY: ARRIVAL,
    NoteType.OPERATIVE: PROCEDURE,
    NoteType.DISCHARGE: DISCHARGE,
}


@dataclass(frozen=True)
class StayEvent:
    at: datetime
    kind: str  # one of the five above
    label: str  # the note's title, or its type
    note_id: int


def stay_event_kind(note: Note) -> str | None:
    for pattern, kind in _TITLE_KINDS:
        if pattern.search(note.title or ""):
            return kind
    return _TYPE_KINDS.get(note.note_type)  # type: ignore[call-overload]


def stay_timeline(notes: Iterable[Note]) -> list[StayEvent]:
    """The stay's events, oldest first, each from (and linking to) one note."""
    events = []
    for note in notes:
        kind = stay_event_kind(note)
        if kind is not None:
            label = note.title or note.get_note_type_display()
            events.append(StayEvent(at=note.authored_at, kind=kind, label=label, note_id=note.pk))
    events.sort(key=lambda event: (event.at, event.note_id))
    return events
