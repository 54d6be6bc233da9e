"""Fixtures for summary tests: an OpenAI-compatible stub of the vLLM server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm_stub import LLMStub


@pytest.fixture
def llm_stub() -> Iterator[LLMStub]:
    """A started stub (`.base_url` ends in /v1, `.script(...)`, `.requests`); stopped after the test."""
    stub = LLMStub().start()
    try:
        yield stub
    finally:
        stub.stop()
