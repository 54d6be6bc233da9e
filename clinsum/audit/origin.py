"""Where the web request being served came from, for the audit rows that services write
without being handed the request. RequestContextMiddleware sets it for the length of each
request; outside one (Celery tasks, management commands) it is empty."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""


origin_var: ContextVar[Origin] = ContextVar("audit_origin", default=Origin())  # noqa: B039 (frozen: immutable)


def origin_of(request) -> Origin:
    return Origin(
        ip=getattr(request, "client_ip", None),
        user_agent=request.headers.get("User-Agent", "")[:300],
        request_id=getattr(request, "request_id", ""),
    )
