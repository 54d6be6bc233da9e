"""Generation backends: each turns numbered sources into sections of claims with citations."""

from __future__ import annotations

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
