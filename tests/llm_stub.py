"""An OpenAI-compatible stub that answers as vLLM's server does, for tests (no GPU, no model).

Serves POST /v1/chat/completions and GET /v1/models on 127.0.0.1 (a free port). Requests are
validated as vLLM validates them, and errors use vLLM's body:
{"object": "error", "message": ..., "type": "BadRequestError", "param": null, "code": 400}.
Each test scripts what the next requests get, in order:

    stub.script(reply('{"sections": {}}'), error(503), sleep(5), raw("<html>bad gateway"))

A reply's content may be a function of the request body, so an answer can cite the source ids
it finds in the prompt.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Content = str | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Reply:
    content: Content
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Error:
    status: int
    message: str


@dataclass(frozen=True)
class Raw:
    """A body sent as it is, whatever it holds (a broken proxy, a crashed server)."""

    status: int
    body: str


@dataclass(frozen=True)
class Sleep:
    seconds: float
    then: Reply


Behaviour = Reply | Error | Sleep | Raw


def reply(content: Content) -> Reply:
    return Reply(content)


def truncated(content: Content) -> Reply:
    """The answer cut at max_tokens: half the content, finish_reason "length"."""

    def cut(request: dict[str, Any]) -> str:
        text = content(request) if callable(content) else content
        return text[: len(text) // 2]

    return Reply(cut, finish_reason="length")


def malformed() -> Reply:
    return Reply('{"sections": {"problems": [{"text": "Heart failure", "citations": [')


def raw(body: str, status: int = 200) -> Raw:
    return Raw(status, body)


def error(status: int, message: str = "") -> Error:
    return Error(status, message or HTTPStatus(status).phrase)


def sleep(seconds: float, then: Reply | None = None) -> Sleep:
    return Sleep(seconds, then or Reply('{"sections": {}}'))


_ERROR_TYPES = {400: "BadRequestError", 401: "Unauthorized", 404: "NotFoundError", 429: "TooManyRequests"}


def _error_body(status: int, message: str) -> dict[str, Any]:
    kind = _ERROR_TYPES.get(status, HTTPStatus(status).phrase.replace(" ", ""))
    if status >= 500:
        kind = "InternalServerError"
    return {"object": "error", "message": message, "type": kind, "param": None, "code": status}


def _request_problem(body: object, model: str) -> tuple[int, str] | None:
    """What vLLM would refuse in this request, as (status, message), or None."""
    if not isinstance(body, dict):
        return 400, "request body must be a JSON object"
    if body.get("model") != model:
        return 404, f"The model `{body.get('model')}` does not exist."
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return 400, "messages: Field required (a non-empty list)"
    for message in messages:
        if (
            not isinstance(message, dict)
            or message.get("role") not in {"system", "user", "assistant", "tool"}
            or not isinstance(message.get("content"), str)
        ):
            return 400, "messages: each message needs a role and string content"
    response_format = body.get("response_format")
    if response_format is not None:
        if not isinstance(response_format, dict) or response_format.get("type") not in {
            "text",
            "json_object",
            "json_schema",
        }:
            return 400, "response_format.type must be one of text, json_object, json_schema"
        if response_format["type"] == "json_schema":
            spec = response_format.get("json_schema")
            if (
                not isinstance(spec, dict)
                or not isinstance(spec.get("name"), str)
                or not isinstance(spec.get("schema"), dict)
            ):
                return 400, "response_format.json_schema needs a name and a schema object"
    return None


class LLMStub:
    def __init__(self, *, model: str = "clinsum-test-model", max_model_len: int = 32768):
        self.model = model
        self.max_model_len = max_model_len
        self.requests: list[dict[str, Any]] = []  # bodies of chat completion requests, in order
        self.responses: list[tuple[int, str]] = []  # (status, body) answered to chat completions, in order
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True  # a sleeping handler must not block stop()
        self._thread = threading.Thread(target=self._server.serve_forever, name="llm-stub", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> LLMStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes sleeping handlers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        """Forget the script and what was asked and answered: one stub serves the whole session."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.responses.clear()

    def script(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self._queue.extend(behaviours)

    def _next(self) -> Behaviour:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return Error(500, "llm stub: no behaviour scripted for this request")

    def completion(self, body: dict[str, Any], behaviour: Reply) -> dict[str, Any]:
        content = behaviour.content(body) if callable(behaviour.content) else behaviour.content
        prompt_chars = sum(len(m["content"]) for m in body["messages"])
        prompt_tokens, completion_tokens = prompt_chars // 4 + 1, len(content) // 4 + 1
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "tool_calls": [], "reasoning_content": None},
                    "logprobs": None,
                    "finish_reason": behaviour.finish_reason,
                    "stop_reason": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "prompt_logprobs": None,
        }

    def _models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": self.model,
                    "object": "model",
                    "created": int(time.time()),
                    "owned_by": "vllm",
                    "root": self.model,
                    "parent": None,
                    "max_model_len": self.max_model_len,
                }
            ],
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: dict[str, Any] | str) -> None:
                data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
                if self.command == "POST" and self.path.rstrip("/") == "/v1/chat/completions":
                    stub.responses.append((status, data.decode()))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._send(200, stub._models())
                else:
                    self._send(404, _error_body(404, f"no route {self.path}"))

            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, _error_body(404, f"no route {self.path}"))
                    return
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._send(400, _error_body(400, "request body is not valid JSON"))
                    return
                problem = _request_problem(body, stub.model)
                if problem is not None:
                    self._send(problem[0], _error_body(*problem))
                    return
                stub.requests.append(body)
                behaviour = stub._next()
                if isinstance(behaviour, Sleep):
                    if stub._stopping.wait(behaviour.seconds):
                        return
                    behaviour = behaviour.then
                if isinstance(behaviour, Error):
                    self._send(behaviour.status, _error_body(behaviour.status, behaviour.message))
                    return
                if isinstance(behaviour, Raw):
                    self._send(behaviour.status, behaviour.body)
                    return
                self._send(200, stub.completion(body, behaviour))

        return Handler
