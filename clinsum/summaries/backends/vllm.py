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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import openai
from django.conf import settings
from rapidfuzz import fuzz, utils

from retrieval.types import Hit

from ..prompts import (
    CHART_REVIEW,
    PROMPT_VERSION,
    PromptSpec,
    batches_split,
    estimate_tokens,
    render_user_message,
    response_format,
)
from ..sections import SummarySection
from . import GeneratedCitation, GeneratedClaim, Generation, GenerationError

__all__ = ["PROMPT_VERSION", "vllm_generate", "answer_parse", "claims_merge"]

logger = logging.getLogger(__name__)

DEFAULT_CONTEXT_TOKENS = 32768
ANSWER_TOKENS = 4096  # room kept for the answer (and sent as max_tokens)
# chars/4 undercounts clinical text (numbers, abbreviations split into many tokens), and the
# chat template adds tokens of its own: plan for 85% of what is left after the answer.
ESTIMATE_MARGIN = 0.85
NEAR_DUPLICATE = 90  # token_sort_ratio at or above which two claims of a section say the same
MESSAGE_ERROR_MAX = 200
MALFORMED = "the model returned an answer that is not valid JSON for the summary schema"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_NEGATION = re.compile(r"\b(?:no|not|denies|denied|without|negative|absent|never|none)\b|n't\b", re.IGNORECASE)
_NOT_DOCUMENTED = re.compile(r"^\W*not documented\W*$", re.IGNORECASE)
_RETRYABLE_STATUS = {408, 409, 429}  # plus every 5xx


@dataclass(frozen=True)
class _Answer:
    claims: list[GeneratedClaim]
    model: str
    tokens_in: int
    tokens_out: int


def _client_build() -> openai.OpenAI:
    # max_retries=0: retrying is the Celery task's job, with its own backoff and delivery count.
    return openai.OpenAI(base_url=settings.LLM_BASE_URL, api_key=settings.LLM_API_KEY or "EMPTY",
                         timeout=settings.LLM_TIMEOUT_S, max_retries=0)


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
        return GenerationError(f"the language model server did not answer within {settings.LLM_TIMEOUT_S} s",
                               retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return GenerationError("could not connect to the language model server", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status >= 500 or status in _RETRYABLE_STATUS:
            reason = "is busy" if status == 429 else "failed"
            return GenerationError(f"the language model server {reason} (HTTP {status})", retryable=True)
        return GenerationError(f"the language model server refused the request (HTTP {status}): "
                               f"{_server_message(exc)}", retryable=False)
    if isinstance(exc, openai.APIResponseValidationError):
        return GenerationError(MALFORMED, retryable=False)
    return GenerationError(f"the language model client failed ({type(exc).__name__})", retryable=False)


def _claim_parse(item: object, section_key: str) -> GeneratedClaim:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
        raise GenerationError(MALFORMED)
    citations = item.get("citations")
    if not isinstance(citations, list):
        raise GenerationError(MALFORMED)
    parsed = []
    for citation in citations:
        if not (isinstance(citation, dict) and isinstance(citation.get("source_id"), str)
                and isinstance(citation.get("quote"), str)):
            raise GenerationError(MALFORMED)
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
        claims.extend(_claim_parse(item, key) for item in items)
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
    *, parts: Sequence[Sequence[GeneratedClaim]], sections: Sequence[SummarySection],
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
        documented = [c for c in claims if not _NOT_DOCUMENTED.match(c.text)]
        merged.extend(documented or claims[:1])
    return merged


def _ask(*, client: openai.OpenAI, model: str, sections: Sequence[SummarySection],
         section_sources: Mapping[str, Sequence[str]], sources: Mapping[str, Hit],
         source_ids: Sequence[str], answer_tokens: int, prompt: PromptSpec) -> _Answer:
    messages = [
        {"role": "system", "content": prompt.system_rules},
        {"role": "user", "content": render_user_message(sections=sections, section_sources=section_sources,
                                                        sources=sources, source_ids=source_ids,
                                                        task_line=prompt.task_line)},
    ]
    try:
        response = client.chat.completions.create(
            model=model, messages=messages, temperature=0, max_tokens=answer_tokens,
            response_format=response_format(sections=sections, source_ids=source_ids,
                                            schema_name=prompt.schema_name),
        )
    except openai.OpenAIError as exc:
        error = _error_map(exc)
        logger.warning("LLM request failed (%s): %s", type(exc).__name__, error)
        raise error from None  # the chained client error could carry request details
    if not response.choices:
        raise GenerationError(MALFORMED)
    choice = response.choices[0]
    if choice.finish_reason == "length":
        raise GenerationError(f"the model's answer was cut off (finish_reason=length) after {answer_tokens} "
                              "tokens; the summary was not stored", retryable=False)
    claims = answer_parse(content=choice.message.content, section_keys=[s.key for s in sections])
    usage = response.usage
    return _Answer(claims, response.model or model,
                   usage.prompt_tokens if usage else 0, usage.completion_tokens if usage else 0)


def _batch_sections(*, sections: Sequence[SummarySection], section_sources: Mapping[str, Sequence[str]],
                    batch: Sequence[str], first: bool) -> list[SummarySection]:
    """The sections a batch can speak to; sections with no sources at all go to the first
    batch only, so "Not documented." is said once, not once per batch."""
    chosen = set(batch)
    return [s for s in sections
            if chosen & set(section_sources.get(s.key, [])) or (first and not section_sources.get(s.key))]


def vllm_generate(
    *, sections: Sequence[SummarySection], section_sources: Mapping[str, Sequence[str]],
    sources: Mapping[str, Hit], client: openai.OpenAI | None = None, prompt: PromptSpec = CHART_REVIEW,
) -> Generation:
    """`prompt` frames the task (chart review by default; nursing drafts pass their own)."""
    model = settings.LLM_MODEL
    if not model:
        raise GenerationError("LLM_MODEL is not configured", retryable=False)
    if not sources:
        raise GenerationError("there are no sources to summarise", retryable=False)
    client = client or _client_build()
    context = int(getattr(settings, "LLM_CONTEXT_TOKENS", DEFAULT_CONTEXT_TOKENS))
    answer_tokens = min(ANSWER_TOKENS, context // 4)
    source_ids = list(sources)  # S1, S2, ... in the order services numbered them
    overhead = estimate_tokens(prompt.system_rules) + estimate_tokens(
        render_user_message(sections=sections, section_sources=section_sources, sources=sources, source_ids=[],
                            task_line=prompt.task_line))
    budget = int((context - answer_tokens) * ESTIMATE_MARGIN) - overhead
    if budget <= 0:
        raise GenerationError("LLM_CONTEXT_TOKENS is too small for the summary prompt", retryable=False)
    batches = batches_split(source_ids=source_ids, sources=sources, budget_tokens=budget)

    answers = []
    for index, batch in enumerate(batches):
        batch_sections = sections if len(batches) == 1 else _batch_sections(
            sections=sections, section_sources=section_sources, batch=batch, first=index == 0)
        if batch_sections:
            answers.append(_ask(client=client, model=model, sections=batch_sections,
                                section_sources=section_sources, sources=sources, source_ids=batch,
                                answer_tokens=answer_tokens, prompt=prompt))
    claims = answers[0].claims if len(answers) == 1 else claims_merge(
        parts=[a.claims for a in answers], sections=sections)
    notes = [f"map-reduce over {len(answers)} batches of sources"] if len(answers) > 1 else []
    return Generation(
        claims=claims, model=answers[-1].model if answers else model, prompt_version=prompt.version,
        tokens_in=sum(a.tokens_in for a in answers), tokens_out=sum(a.tokens_out for a in answers), notes=notes,
    )
