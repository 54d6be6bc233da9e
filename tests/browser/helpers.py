"""What the browser flows share: logging in through the form, a chart of one MTSamples
discharge summary indexed by the worker, and a watch for Content-Security-Policy violations."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command

from clinsum.charts.models import EmbeddingStatus, Note, Patient
from tests.conftest import PASSWORD, shared_data, wait_for

# Runs before any page script on every document of the context; reports back through a binding,
# which survives navigations (a window variable would not).
LISTEN_FOR_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolation({directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample,
                       source: e.sourceFile, line: e.lineNumber});
});
"""


def log_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def discharge_chart(folder: Path, *, mrn: str, family_name: str, given_name: str) -> Patient:
    """A 4W patient whose chart is one MTSamples discharge summary, indexed by the embed worker."""
    patient = Patient.objects.create(mrn=mrn, family_name=family_name, given_name=given_name, unit="4W", sex="female")
    source = shared_data("mtsamples", "abscess-with-cellulitis-discharge-summary.txt")
    (folder / source.name).write_bytes(source.read_bytes())
    call_command("ingest_notes", str(folder), mrn=patient.mrn, note_type="discharge_summary", verbosity=0)
    wait_for(
        lambda: not Note.objects.filter(patient=patient).exclude(embedding_status=EmbeddingStatus.DONE).exists(),
        what="indexing",
    )
    return patient


def csp_watch(page) -> tuple[list, list]:
    """(violations, console messages) of this page from now on."""
    violations, console = [], []
    page.expose_function("cspViolation", lambda report: violations.append(report))
    page.add_init_script(LISTEN_FOR_VIOLATIONS)
    page.on("console", lambda message: console.append(message.text))
    page.on("pageerror", lambda error: console.append(str(error)))
    return violations, console


def csp_problems(violations: list, console: list) -> list:
    return violations + [text for text in console if "content security policy" in text.lower()]
