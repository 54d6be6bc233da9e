"""Structured logs: one JSON object per line, UTC times, the request id of the web request
or of the request that enqueued a Celery task. Messages carry ids only, never note text."""

from __future__ import annotations

import json
import logging
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class IdsOnlyExceptions:
    """An exception is logged as its type and the frames it passed through, never its message:
    messages can carry data (a database error's failing row, a parser's offending line of a
    note). Applies to every logger, ours and the libraries'."""

    def formatException(self, exc_info) -> str:
        kind, _value, tb = exc_info
        frames = "".join(traceback.format_tb(tb))
        return f"Traceback (most recent call last):\n{frames}{kind.__module__}.{kind.__qualname__} (message withheld)"


class PlainFormatter(IdsOnlyExceptions, logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # logging caches the first handler's rendering of the exception on the record; another
        # handler's (with the message) must not be reused here, nor ours left behind for it.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached


class JsonFormatter(IdsOnlyExceptions, logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
