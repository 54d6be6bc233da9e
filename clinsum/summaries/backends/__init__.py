"""Generation backends: each turns numbered sources into sections of claims with citations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class GeneratedCitation:
    source_id: str
    quote: str


@dataclass(frozen=True)
class GeneratedClaim:
    section: str
    text: str
    citations: tuple[GeneratedCitation, ...]
    # "" a claim quoting its sources; composed by the chart reader from cited statements:
    # "not_listed" (a drug on an older list, absent from the newest list cited after it) or
    # "conflict" (two notes that disagree, both cited). The verifier checks each kind.
    kind: str = ""


@dataclass
class Generation:
    claims: list[GeneratedClaim]
    model: str
    prompt_version: str
    tokens_in: int = 0
    tokens_out: int = 0
    notes: list[str] = field(default_factory=list)


class GenerationError(Exception):
    """The backend could not produce a summary; the message is shown to the user (no PHI)."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass
class ModelCallRecord:
    """One call of a generation backend as it happened, for incident review (stored as a
    summaries.ModelCall by the caller's recorder, never logged). vLLM: the request body as sent
    and the response body as received; extractive: its inputs and its output as JSON."""

    backend: str
    note_ids: list[int] = field(default_factory=list)  # the notes whose text the call carried
    model: str = ""
    prompt_version: str = ""
    request_body: str = ""
    response_body: str = ""
    http_status: int | None = None
    outcome: str = "ok"  # summaries.models.CallOutcome
    error: str = ""
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: int | None = None


Recorder = Callable[[ModelCallRecord], None]
