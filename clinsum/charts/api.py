"""POST /api/fhir/Bundle: the interface engine's door for FHIR R4 bundles.

Authenticated by a service-account token (`Authorization: Bearer <token>`; see the
`service_token_create` command), no session, no CSRF (no cookie is involved). The body is
refused before it is parsed when it is larger than FHIR_MAX_BYTES. A bundle is stored whole or
not at all; the answer is a FHIR transaction-response Bundle with an outcome per entry (201),
or an OperationOutcome saying what is wrong (4xx). A token amends only the notes it created
(403 otherwise; a signed ClinSum draft never), and the replaced text is kept. Every call is
audited, refusals included; stored notes are audited per patient with their ids.
"""

from __future__ import annotations

import functools
import json
import logging

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clinsum.audit.services import audit_record

from .fhir import Entry, fhir_json_parse
from .models import Note, ServiceToken
from .services import IngestError, IngestResult, notes_ingest, service_token_authenticate

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
ACCEPTED_TYPES = (FHIR_JSON, "application/json")
INGEST_ATTEMPTS = 3  # identical concurrent posts: the losers re-read and answer "unchanged"


def _issue(severity: str, code: str, diagnostics: str, expression: str | None = None) -> dict:
    issue = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return issue


def _fhir_response(body: dict, status: int) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)


def _outcome(status: int, issues: list[dict]) -> HttpResponse:
    return _fhir_response({"resourceType": "OperationOutcome", "issue": issues}, status)


def outcome_database_unavailable() -> HttpResponse:
    """503 with Retry-After: the API's answer while PostgreSQL is away (also given by the
    project's outage handler, clinsum/outage.py, when the outage is met before this view)."""
    response = _outcome(
        503, [_issue("error", "transient", "the database is unavailable; nothing was stored, post again later")]
    )
    response["Retry-After"] = "30"
    return response


def _entry_expression(line: int | None) -> str | None:
    return f"Bundle.entry[{line}]" if line is not None else None


def _audit(request, token: ServiceToken | None, outcome: str, reason: str) -> None:
    audit_record(
        action="ingest_api",
        request=request,
        object_type="service_token",
        object_id=token.pk if token else "",
        outcome=outcome,
        reason=reason,
    )


def _audit_ingest(request, token: ServiceToken, result) -> None:
    """One event per patient touched, naming the notes stored, so a reviewer can find what a
    token wrote into whose chart."""
    counts = (
        f"notes new {result.notes_new}, amended {result.notes_amended}, unchanged {result.notes_unchanged}; "
        f"patients new {result.patients_new}"
    )
    if not result.patient_ids:
        _audit(request, token, "ok", counts)
        return
    by_patient = dict(Note.objects.filter(pk__in=[i for _, i in result.outcomes]).values_list("pk", "patient_id"))
    for patient_id in result.patient_ids:
        notes = sorted(i for i, p in by_patient.items() if p == patient_id)
        audit_record(
            action="ingest_api",
            request=request,
            patient_id=patient_id,
            object_type="service_token",
            object_id=token.pk,
            outcome="ok",
            reason=f"{counts}; note ids {', '.join(map(str, notes))[:200]}",
        )


def _bearer_token(request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _answers_in_fhir(view):
    """Whatever goes wrong, the client gets an OperationOutcome, never Django's HTML page: 503
    when the database cannot be reached (post again later), 500 otherwise. Nothing was stored:
    the bundle's transaction rolled back. Only the error's class is logged (its message may
    quote a value from the bundle)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except OperationalError as exc:
            logger.error("FHIR API: database unavailable (%s)", type(exc).__name__)
            return outcome_database_unavailable()
        except Exception as exc:  # noqa: BLE001 - the answer is an OperationOutcome, the log has the class
            logger.error("FHIR API: internal error (%s)", type(exc).__name__)
            return _outcome(500, [_issue("fatal", "exception", "internal error; nothing was stored")])

    return wrapper


@csrf_exempt
@require_POST
@_answers_in_fhir
def fhir_bundle_create(request):
    token = service_token_authenticate(token=_bearer_token(request))
    if token is None:
        _audit(request, None, "denied", "missing, unknown or inactive service token")
        response = _outcome(
            401, [_issue("error", "login", "a valid service token is required (Authorization: Bearer <token>)")]
        )
        response["WWW-Authenticate"] = 'Bearer realm="clinsum"'
        return response
    limit = settings.FHIR_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:  # refused before a byte of the body is read
        _audit(request, token, "rejected", "body too large")
        return _outcome(
            413, [_issue("error", "too-costly", f"the bundle has {declared:,} bytes; the limit is {limit:,}")]
        )
    content_type = request.content_type.lower()
    if content_type not in ACCEPTED_TYPES:
        _audit(request, token, "rejected", "unsupported content type")
        return _outcome(
            415,
            [
                _issue(
                    "error",
                    "not-supported",
                    f"Content-Type must be {FHIR_JSON} or application/json, not {content_type[:60]!r}",
                )
            ],
        )
    raw = request.read(limit + 1)  # and never more than the limit, whatever the header said
    if len(raw) > limit:
        _audit(request, token, "rejected", "body too large")
        return _outcome(413, [_issue("error", "too-costly", f"the bundle is larger than the limit of {limit:,} bytes")])
    parsed = fhir_json_parse(raw, source=f"api:{token.name}", bundle_only=True)
    if parsed.problems:
        _audit(request, token, "rejected", f"{len(parsed.problems)} problem(s) in the bundle")
        return _outcome(
            400, [_issue("error", "invalid", message, _entry_expression(line)) for line, message in parsed.problems]
        )
    for attempt in range(INGEST_ATTEMPTS):
        try:
            with transaction.atomic():  # the notes and the audit rows commit together, or neither
                result = notes_ingest(notes=parsed.notes, patients=parsed.patients, origin=f"api:{token.name}")
                _audit_ingest(request, token, result)
            break
        except IngestError as exc:
            if exc.forbidden:
                _audit(request, token, "denied", f"{len(exc.problems)} record(s) would amend a note of another source")
                return _outcome(
                    403,
                    [_issue("error", "forbidden", message, _entry_expression(line)) for line, message in exc.problems],
                )
            _audit(request, token, "rejected", f"{len(exc.problems)} problem(s) with the chart")
            return _outcome(
                422,
                [_issue("error", "business-rule", message, _entry_expression(line)) for line, message in exc.problems],
            )
        except IntegrityError:
            # The same bundle posted twice at once: the other request stored it first. Read
            # again, so this one answers "unchanged" rather than fail.
            if attempt == INGEST_ATTEMPTS - 1:
                _audit(request, token, "conflict", "concurrent posts of the same notes")
                return _outcome(
                    409, [_issue("error", "conflict", "another request is storing the same notes; post again")]
                )
    return _fhir_response(
        {
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [_entry_response(entry, result) for entry in parsed.entries],
        },
        201,
    )


_NOTE_ANSWERS = {
    "created": ("201 Created", "note stored; indexing is queued"),
    "amended": ("200 OK", "amended: the note's text was replaced and it is queued for re-indexing"),
    "unchanged": ("200 OK", "unchanged: this note is stored already"),
}


def _entry_response(entry: Entry, result: IngestResult) -> dict:
    location = None
    if entry.kind == "patient":
        outcome, patient_id = result.patient_outcomes[entry.record]
        status = "201 Created" if outcome == "created" else "200 OK"
        message = "patient created" if outcome == "created" else "patient known; demographics agree"
        location = f"Patient/{patient_id}"
    elif entry.kind == "note":
        outcome, note_id = result.outcomes[entry.record]
        status, message = _NOTE_ANSWERS[outcome]
        location = f"DocumentReference/{note_id}"
    elif entry.kind == "binary":
        status, message = "200 OK", "read as a note's attachment; not stored on its own"
    elif entry.kind == "skipped":
        status, message = "200 OK", "not stored"
    else:
        status, message = (
            "200 OK",
            f"not stored: ClinSum keeps Patient and DocumentReference, not {entry.resource_type}",
        )
    issues = [_issue("information", "informational", message)]
    issues += [_issue("warning", "informational", warning) for warning in entry.warnings]
    response = {"status": status, "outcome": {"resourceType": "OperationOutcome", "issue": issues}}
    if location:
        response["location"] = location
    return {"response": response}
