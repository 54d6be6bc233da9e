"""Gives each request an id (carried into audit rows and logs) and a trustworthy client IP."""

from __future__ import annotations

import ipaddress
import re
import uuid

from django.conf import settings
from django.http import HttpResponseBadRequest

from clinsum.logs import request_id_var

from .origin import origin_of, origin_var

_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class BadForwardedFor(ValueError):
    """The trusted proxy's X-Forwarded-For entry is not an IP address."""


def client_ip(request) -> str | None:
    # Behind nginx only the address nginx saw is trusted (CLINSUM_TRUSTED_PROXIES hops); a
    # client-supplied X-Forwarded-For is otherwise ignored, so it cannot be spoofed.
    hops = settings.CLINSUM_TRUSTED_PROXIES
    if hops:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            try:
                return str(ipaddress.ip_address(forwarded[-hops]))
            except ValueError:
                raise BadForwardedFor from None
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        try:
            request.client_ip = client_ip(request)
        except BadForwardedFor:
            return HttpResponseBadRequest("Malformed X-Forwarded-For.")
        token = request_id_var.set(request.request_id)
        origin_token = origin_var.set(origin_of(request))
        try:
            response = self.get_response(request)
        finally:
            origin_var.reset(origin_token)
            request_id_var.reset(token)
        response["X-Request-ID"] = request.request_id
        return response
