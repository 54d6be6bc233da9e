"""The vLLM backend: the hospital's own LLM behind vLLM's OpenAI-compatible API.

One request when the prompt fits the context; otherwise map (one request per batch of
sources) and reduce (concatenate sections, drop near-duplicate claims, keep citations).
The answer is schema-constrained by the server and parsed strictly here; citations are not
trusted: unknown ids pass through untouched for the verifier to flag.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import openai
from django.conf import settings
from rapidfuzz import fuzz, utils

from retrieval.types import Hit

from ..models import CallOutcome
from ..prompts import (
    CHART_REVIEW,
    PROMPT_VERSION,
    PromptSpec,
    batches_split,
    estimate_tokens,
    not_documented,
    render_user_message,
    response_format,
)
from ..sections import SummarySection
from . import GeneratedCitation, GeneratedClaim, Generation, GenerationError, ModelCallRecord, Recorder

__all__ = ["PROMPT_VERSION", "vllm_generate", "answer_parse", "claim_parse", "claims_merge", "structured_ask"]

logger = logging.getLogger(__name__)

ANSWER_TOKENS = 4096  # room kept for the answer (and sent as max_tokens)
# chars/4 undercounts clinical text (numbers, abbreviations split into many tokens), and the
# chat template adds tokens of its own: plan for 85% of what is left after the answer.
ESTIMATE_MARGIN = 0.85
NEAR_DUPLICATE = 90  # token_sort_ratio at or above which two claims of a section say the same
MESSAGE_ERROR_MAX = 200
MALFORMED = "the model returned an answer that is not valid JSON for the summary schema"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_NEGATION = re.compile(r"\b(?:no|not|denies|denied|without|negative|absent|never|none)\b|n't\b", re.IGNORECASE)
_RETRYABLE_STATUS = {408, 409, 429}  # plus every 5xx


T = TypeVar("T")


@dataclass(frozen=True)
class Answered(Generic[T]):
    """One parsed answer of the server, with the model that wrote it and its token counts."""

    value: T
    model: str
    tokens_in: int
    tokens_out: int


def client_build() -> openai.OpenAI:
    # max_retries=0: retrying is the Celery task's job, with its own backoff and delivery count.
    return openai.OpenAI(
        base_url=settings.LLM_BASE_URL,
        api_key=settings.LLM_API_KEY or "EMPTY",
        timeout=settings.LLM_TIMEOUT_S,
        max_retries=0,
    )


def _server_message(exc: openai.APIStatusError) -> str:
    """The server's own message, one line and short. The client already unwraps an
    {"error": {...}} body, so both vLLM error shapes arrive as a dict with "message"."""
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        return "no message"
    # Validation errors may echo the request back ("input_value=..."): never carry that on.
    message = re.split(r"input_value=|'input':", message, maxsplit=1)[0]
    message = " ".join(message.split())
    return message if len(message) <= MESSAGE_ERROR_MAX else message[: MESSAGE_ERROR_MAX - 1] + "…"


def _error_map(exc: openai.OpenAIError) -> GenerationError:
    """Client errors -> GenerationError. Retryable ones name only the failure, never the
    server's text, which could echo the prompt."""
    if isinstance(exc, openai.APITimeoutError):
        return GenerationError(
            f"the language model server did not answer within {settings.LLM_TIMEOUT_S} s", retryable=True
        )
    if isinstance(exc, openai.APIConnectionError):
        return GenerationError("could not connect to the language model server", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500 or status in _RETRYABLE_STATUS:
            reason = "is busy" if status == 429 else "failed"
            return GenerationError(f"the language model server {reason} (HTTP {status})", retryable=True)
        return GenerationError(
            f"the language model server refused the request (HTTP {status}): {_server_message(exc)}", retryable=False
        )
    if isinstance(exc, openai.APIResponseValidationError):
        return GenerationError(MALFORMED, retryable=False)
    return GenerationError(f"the language model client failed ({type(exc).__name__})", retryable=False)


def claim_parse(item: object, section_key: str, *, malformed: str = MALFORMED) -> GeneratedClaim:
    """One {"text", "citations": [{"source_id", "quote"}]} item, strictly, or GenerationError(malformed)."""
    if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
        raise GenerationError(malformed)
    citations = item.get("citations")
    if not isinstance(citations, list):
        raise GenerationError(malformed)
    parsed = []
    for citation in citations:
        if not (
            isinstance(citation, dict)
            and isinstance(citation.get("source_id"), str)
            and isinstance(citation.get("quote"), str)
        ):
            raise GenerationError(malformed)
        # The id is kept exactly as written, known or not: the verifier must see it to flag it.
        parsed.append(GeneratedCitation(citation["source_id"], citation["quote"]))
    return GeneratedClaim(section_key, item["text"].strip(), tuple(parsed))


def answer_parse(*, content: str | None, section_keys: Sequence[str]) -> list[GeneratedClaim]:
    """Strict: JSON of the schema's shape or GenerationError. A missing section means no
    claims for it; an unknown section key means the schema was not honoured."""
    try:
        data = json.loads(content or "")
    except ValueError:
        raise GenerationError(MALFORMED) from None
    answer_sections = data.get("sections") if isinstance(data, dict) else None
    if not isinstance(answer_sections, dict) or not set(answer_sections) <= set(section_keys):
        raise GenerationError(MALFORMED)
    claims: list[GeneratedClaim] = []
    for key in section_keys:
        items = answer_sections.get(key, [])
        if not isinstance(items, list):
            raise GenerationError(MALFORMED)
        claims.extend(claim_parse(item, key) for item in items)
    return claims


def _same_claim(a: str, b: str) -> bool:
    """Near-duplicates only if numbers and negation agree too: "furosemide 40 mg" and
    "furosemide 80 mg" score high on fuzzy ratio but must both stay."""
    if sorted(_NUMBER.findall(a)) != sorted(_NUMBER.findall(b)):
        return False
    if bool(_NEGATION.search(a)) != bool(_NEGATION.search(b)):
        return False
    return fuzz.token_sort_ratio(a, b, processor=utils.default_process) >= NEAR_DUPLICATE


def _citations_union(kept: GeneratedClaim, extra: Sequence[GeneratedCitation]) -> GeneratedClaim:
    citations = kept.citations + tuple(c for c in extra if c not in kept.citations)
    return GeneratedClaim(kept.section, kept.text, citations)


def claims_merge(
    *,
    parts: Sequence[Sequence[GeneratedClaim]],
    sections: Sequence[SummarySection],
) -> list[GeneratedClaim]:
    """Reduce: sections in their order, claims in batch order; a near-duplicate is dropped
    but its citations join the claim kept; "Not documented." stays only if nothing else is.
    No cap per section: which batch's claim to cut would be arbitrary, and cutting hides chart content."""
    by_section: dict[str, list[GeneratedClaim]] = {section.key: [] for section in sections}
    for claims in parts:
        for claim in claims:
            kept = by_section.setdefault(claim.section, [])
            for index, other in enumerate(kept):
                if _same_claim(claim.text, other.text):
                    kept[index] = _citations_union(other, claim.citations)
                    break
            else:
                kept.append(claim)
    merged: list[GeneratedClaim] = []
    for claims in by_section.values():
        documented = [c for c in claims if not not_documented(c.text)]
        merged.extend(documented or claims[:1])
    return merged


def _call_failed(call: ModelCallRecord, exc: openai.OpenAIError) -> None:
    """What the record keeps of a failed exchange: the request as sent, and the server's status
    and body as received if it answered at all."""
    request = getattr(exc, "request", None)
    if request is not None:
        call.request_body = _body_text(request.content)
    response = getattr(exc, "response", None)
    if isinstance(exc, openai.APITimeoutError):
        call.outcome = CallOutcome.TIMEOUT
    elif isinstance(exc, openai.APIConnectionError):
        call.outcome = CallOutcome.CONNECTION
    elif isinstance(exc, openai.APIStatusError):
        call.outcome = CallOutcome.HTTP_ERROR
    elif isinstance(exc, openai.APIResponseValidationError):
        call.outcome = CallOutcome.UNUSABLE
    else:
        call.outcome = CallOutcome.ERROR
    if response is not None:
        call.http_status = response.status_code
        call.response_body = _body_text(response.content)


def _body_text(content: bytes) -> str:
    # PostgreSQL text cannot hold NUL; JSON bodies never carry a raw one (it is escaped).
    return content.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _exchange(
    *,
    client: openai.OpenAI,
    request: dict,
    call: ModelCallRecord,
    answer_tokens: int,
    parse: Callable[[str | None], T],
    what: str,
) -> Answered[T]:
    """The one place a request goes to the server and its answer comes back: `call` is filled
    with both exactly as they crossed the wire; `parse` reads the answer's content strictly."""
    call.request_body = json.dumps(request)  # replaced by the bytes sent once the client built them
    started = time.monotonic()
    try:
        raw = client.chat.completions.with_raw_response.create(**request)
        call.latency_ms = int((time.monotonic() - started) * 1000)
        call.request_body = _body_text(raw.http_request.content)
        call.http_status, call.response_body = raw.status_code, _body_text(raw.content)
        try:
            response = raw.parse()
        except ValueError:  # a body that is not JSON at all
            raise GenerationError(MALFORMED) from None
    except openai.OpenAIError as exc:
        if call.latency_ms is None:  # no answer, or one the client could not read
            call.latency_ms = int((time.monotonic() - started) * 1000)
        _call_failed(call, exc)
        error = _error_map(exc)
        logger.warning("LLM request failed (%s): %s", type(exc).__name__, error)
        raise error from None  # the chained client error could carry request details
    usage = response.usage
    if usage:
        call.tokens_in, call.tokens_out = usage.prompt_tokens, usage.completion_tokens
    if not response.choices:
        raise GenerationError(MALFORMED)
    choice = response.choices[0]
    if choice.finish_reason == "length":
        raise GenerationError(
            f"the model's answer was cut off (finish_reason=length) after {answer_tokens} "
            f"tokens; the {what} was not stored",
            retryable=False,
        )
    return Answered(
        parse(choice.message.content),
        response.model or call.model,
        usage.prompt_tokens if usage else 0,
        usage.completion_tokens if usage else 0,
    )


def structured_ask(
    *,
    client: openai.OpenAI,
    model: str,
    messages: list[dict[str, str]],
    response_format: dict[str, Any],
    parse: Callable[[str | None], T],
    answer_tokens: int,
    prompt_version: str,
    note_ids: list[int],
    record: Recorder | None,
    what: str = "summary",
) -> Answered[T]:
    """One schema-constrained request (temperature 0) and its strictly parsed answer; `record`
    is given the call as a ModelCallRecord, answered or not (`what` names the job in reasons)."""
    request = {
        "model": model,
        "messages": messages,
        "temperature": 0,
        "max_tokens": answer_tokens,
        "response_format": response_format,
    }
    call = ModelCallRecord(backend="vllm", model=model, prompt_version=prompt_version, note_ids=note_ids)
    try:
        return _exchange(client=client, request=request, call=call, answer_tokens=answer_tokens, parse=parse, what=what)
    except Exception as exc:
        if call.outcome == CallOutcome.OK:  # not an exchange that failed (that is recorded already)
            call.outcome = CallOutcome.UNUSABLE if call.http_status else CallOutcome.ERROR
        call.error = str(exc) if isinstance(exc, GenerationError) else f"internal error ({type(exc).__name__})"
        raise
    finally:
        if record is not None:
            record(call)  # fails closed: a call that cannot be recorded fails the job


def _ask(
    *,
    client: openai.OpenAI,
    model: str,
    sections: Sequence[SummarySection],
    section_sources: Mapping[str, Sequence[str]],
    sources: Mapping[str, Hit],
    source_ids: Sequence[str],
    answer_tokens: int,
    prompt: PromptSpec,
    record: Recorder | None,
) -> Answered[list[GeneratedClaim]]:
    messages = [
        {"role": "system", "content": prompt.system_rules},
        {
            "role": "user",
            "content": render_user_message(
                sections=sections,
                section_sources=section_sources,
                sources=sources,
                source_ids=source_ids,
                task_line=prompt.task_line,
            ),
        },
    ]
    section_keys = [s.key for s in sections]
    return structured_ask(
        client=client,
        model=model,
        messages=messages,
        response_format=response_format(sections=sections, source_ids=source_ids, schema_name=prompt.schema_name),
        parse=lambda content: answer_parse(content=content, section_keys=section_keys),
        answer_tokens=answer_tokens,
        prompt_version=prompt.version,
        note_ids=sorted({sources[s].note_id for s in source_ids}),
        record=record,
    )


def _batch_sections(
    *,
    sections: Sequence[SummarySection],
    section_sources: Mapping[str, Sequence[str]],
    batch: Sequence[str],
    first: bool,
) -> list[SummarySection]:
    """The sections a batch can speak to; sections with no sources at all go to the first
    batch only, so "Not documented." is said once, not once per batch."""
    chosen = set(batch)
    return [
        s
        for s in sections
        if chosen & set(section_sources.get(s.key, [])) or (first and not section_sources.get(s.key))
    ]


def vllm_generate(
    *,
    sections: Sequence[SummarySection],
    section_sources: Mapping[str, Sequence[str]],
    sources: Mapping[str, Hit],
    client: openai.OpenAI | None = None,
    prompt: PromptSpec = CHART_REVIEW,
    record: Recorder | None = None,
) -> Generation:
    """`prompt` frames the task (chart review by default; nursing drafts pass their own).
    `record` is given every request to the server as a ModelCallRecord, answered or not."""
    model = settings.LLM_MODEL
    if not model:
        raise GenerationError("LLM_MODEL is not configured", retryable=False)
    if not sources:
        raise GenerationError("there are no sources to summarise", retryable=False)
    client = client or client_build()
    context = settings.LLM_CONTEXT_TOKENS
    answer_tokens = min(ANSWER_TOKENS, context // 4)
    source_ids = list(sources)  # S1, S2, ... in the order services numbered them
    overhead = estimate_tokens(prompt.system_rules) + estimate_tokens(
        render_user_message(
            sections=sections,
            section_sources=section_sources,
            sources=sources,
            source_ids=[],
            task_line=prompt.task_line,
        )
    )
    budget = int((context - answer_tokens) * ESTIMATE_MARGIN) - overhead
    if budget <= 0:
        raise GenerationError("LLM_CONTEXT_TOKENS is too small for the summary prompt", retryable=False)
    batches = batches_split(source_ids=source_ids, sources=sources, budget_tokens=budget)

    answers = []
    for index, batch in enumerate(batches):
        batch_sections = (
            sections
            if len(batches) == 1
            else _batch_sections(sections=sections, section_sources=section_sources, batch=batch, first=index == 0)
        )
        if batch_sections:
            answers.append(
                _ask(
                    client=client,
                    model=model,
                    sections=batch_sections,
                    section_sources=section_sources,
                    sources=sources,
                    source_ids=batch,
                    answer_tokens=answer_tokens,
                    prompt=prompt,
                    record=record,
                )
            )
    claims = (
        answers[0].value if len(answers) == 1 else claims_merge(parts=[a.value for a in answers], sections=sections)
    )
    notes = [f"map-reduce over {len(answers)} batches of sources"] if len(answers) > 1 else []
    return Generation(
        claims=claims,
        model=answers[-1].model if answers else model,
        prompt_version=prompt.version,
        tokens_in=sum(a.tokens_in for a in answers),
        tokens_out=sum(a.tokens_out for a in answers),
        notes=notes,
    )
