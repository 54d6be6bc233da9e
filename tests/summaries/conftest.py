"""Fixtures for summary tests: the session's OpenAI-compatible stub of the vLLM server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm_stub import LLMStub


@pytest.fixture
def llm_stub(llm_server) -> Iterator[LLMStub]:
    """The session's stub (`.base_url` ends in /v1, `.script(...)`, `.requests`), reset before and
    after the test: one stub per session, never one per test."""
    llm_server.reset()
    yield llm_server
    llm_server.reset()
