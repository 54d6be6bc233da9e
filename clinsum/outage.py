"""A database outage answers 503 "ClinSum cannot reach its database" (Retry-After), never a bare
500: pages get a small page rendered without a request (no context processor, so nothing reads
the user or the session), the FHIR API an OperationOutcome. One log line, no traceback, no path:
the error type and the URL name only.

Django turns an exception into a response at every middleware layer, so no middleware can catch
one raised by the middleware below it (SessionPolicyMiddleware is usually the first to reach for
the database, through request.user). Two entry points share the answer:
- DatabaseOutageMiddleware.process_exception: the view raised;
- server_error (handler500): anything else in the chain raised; it is called while the exception
  is being handled, so sys.exc_info() holds it.
"""

from __future__ import annotations

import logging
import sys

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.views import defaults

from clinsum.charts.api import outcome_database_unavailable

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_S = 30
API_PREFIX = "/api/"


def _url_name(request) -> str:
    try:
        return resolve(request.path_info).view_name or "unnamed"
    except Resolver404:
        return "unmatched"


def outage_response(request, exc: BaseException) -> HttpResponse:
    logger.error("database unavailable (%s): answered 503 to %s", type(exc).__name__, _url_name(request))
    if request.path_info.startswith(API_PREFIX):
        response = outcome_database_unavailable()
    else:
        # No request passed: context processors (the user, messages, break-glass) would query.
        page = render_to_string("outage.html", {"retry_after_s": RETRY_AFTER_S})
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # type: ignore[attr-defined]  # the line above; not Django's traceback too
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            return outage_response(request, exception)
        return None


def server_error(request, template_name: str = defaults.ERROR_500_TEMPLATE_NAME) -> HttpResponse:
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS):
        return outage_response(request, exc)
    return defaults.server_error(request, template_name)
