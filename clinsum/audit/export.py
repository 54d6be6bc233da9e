"""CSV export of an audit search. Cells that a spreadsheet would run as a formula are defused."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping

from django.utils import timezone

from .models import AuditEvent

CSV_COLUMNS = [
    "seq",
    "at_local",
    "username",
    "role",
    "action",
    "patient_id",
    "patient_mrn",
    "object_type",
    "object_id",
    "reason",
    "outcome",
    "ip",
    "request_id",
    "hash",
]
EXPORT_BATCH_SIZE = 2000


class _Echo:
    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# A formula can also begin after a line break or after ";" (the field separator of spreadsheets
# in many locales), where a leading apostrophe on the whole cell does not reach it.
_FORMULA_INSIDE = re.compile(r"([;\r\n]\s*)(?=[=+\-@])")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # CSV injection (OWASP): a reason or a failed-login username may start with = + - @.
    text = _FORMULA_INSIDE.sub(r"\1'", text)
    return "'" + text if text.lstrip(" ")[:1] in _FORMULA_START else text


def audit_csv_lines(events: Iterable[AuditEvent], mrns: Mapping[int, str] | None = None) -> Iterator[str]:
    """The CSV rows; `mrns` ({patient id: MRN}, from the page above: the audit app knows no
    patients) fills patient_mrn, left empty for a patient since removed."""
    mrns = mrns or {}
    writer = csv.writer(_Echo())
    local = timezone.get_default_timezone()
    yield writer.writerow(CSV_COLUMNS)
    for e in events:
        yield writer.writerow(
            [
                _cell(v)
                for v in (
                    e.seq,
                    e.at.astimezone(local).isoformat(timespec="seconds"),
                    e.actor_username,
                    e.role,
                    e.action,
                    e.patient_id,
                    mrns.get(e.patient_id, "") if e.patient_id is not None else "",
                    e.object_type,
                    e.object_id,
                    e.reason,
                    e.outcome,
                    e.ip,
                    e.request_id,
                    e.hash,
                )
            ]
        )
