"""Every URL of the project, for every role, against an explicit expectation.

The URL patterns are enumerated from the resolver, not listed by hand: a view added without a
row in EXPECTED fails `test_every_url_has_an_access_expectation` ("new view without an access
expectation"), so no view can ship without someone deciding who may use it.

Each URL is built from objects that belong to a patient IN the chart readers' scope (unit 4W)
and to one OUT of it (ICU), by the name of the URL's keyword argument (patient_id, note_id,
summary_id, citation_id, chunk_id, grant_id, user_id, ...). A kwarg with no known object also
fails. GET views are requested twice: as a page and as an htmx partial (HX-Request).

IDOR: chart readers' requests also carry the OUT patient's ids in the query string and the
POST body (every id name we know); no response may contain that patient's MRN, name or note
text unless the expectation says the reader may open it.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clinsum.access.models import BreakGlassGrant, CareTeamMember
from clinsum.accounts.models import AccountChange
from clinsum.charts.models import Chunk, Note
from clinsum.charts.services import notes_ingest
from clinsum.summaries.models import Citation, Claim, Summary
from tests.accounts.mfa import login_verified
from tests.conftest import note_record

ROLES = ("clinician", "nurse", "admin", "privacy_officer", "anonymous")

# Outcomes. "ok": the view served the request (2xx, a redirect elsewhere than the login or MFA
# pages, or 400 for an empty form post); "deny": 401/403/404; "login": sent to the login page.
OK, DENY, LOGIN = "ok", "deny", "login"

SKIP_PREFIXES = ("admin/", "static/", "media/")


def _chart(method="GET"):
    """Chart readers inside their scope; nobody else."""
    return {
        "method": method,
        "clinician": (OK, DENY),
        "nurse": (OK, DENY),
        "admin": (DENY, DENY),
        "privacy_officer": (DENY, DENY),
        "anonymous": (LOGIN, LOGIN),
    }


def _only(role: str, method="GET", *, ids: bool = False):
    """One role (both subjects when the URL has ids); everyone else denied, anonymous to login."""

    def outcome(r):
        if r == "anonymous":
            return LOGIN
        return OK if r == role else DENY

    return {"method": method, **{r: (outcome(r), outcome(r)) if ids else outcome(r) for r in ROLES}}


def _author(method="GET"):
    """Drafts: their author (the matrix nurse) inside her scope; nobody else, ever."""
    return {
        "method": method,
        "clinician": (DENY, DENY),
        "nurse": (OK, DENY),
        "admin": (DENY, DENY),
        "privacy_officer": (DENY, DENY),
        "anonymous": (LOGIN, LOGIN),
    }


def _everyone(method="GET", outcome=OK):
    return {"method": method, **dict.fromkeys(ROLES, outcome)}


def _logged_in(method="GET"):
    return {"method": method, **{r: OK for r in ROLES if r != "anonymous"}, "anonymous": LOGIN}


EXPECTED: dict[str, dict] = {
    # public
    "healthz": _everyone(),
    "readyz": _everyone(),
    "login": _everyone(),
    "logout": _everyone("POST", LOGIN),  # everyone ends up on the login page
    "fhir_bundle_create": _everyone("POST", DENY),  # service token only, never a session
    "metrics": _everyone(outcome=DENY),  # bearer token only, never a session (404 while no token is set)
    # any logged-in user
    "home": {"method": "GET", "clinician": OK, "nurse": OK, "admin": OK, "privacy_officer": OK, "anonymous": LOGIN},
    "mfa_verify": _logged_in(),
    "mfa_enrol": _logged_in(),
    "session_keepalive": _logged_in("POST"),
    # charts: the scope rule
    "patient_list": {
        "method": "GET",
        "clinician": OK,
        "nurse": OK,
        "admin": DENY,
        "privacy_officer": DENY,
        "anonymous": LOGIN,
    },
    "chart_detail": _chart(),
    "chart_search": _chart("POST"),
    "note_detail": _chart(),
    "summary_create": _chart("POST"),
    "summary_detail": _chart(),
    "summary_retry": _chart("POST"),
    "summary_print": _chart(),  # the printable summary with its sources (issue 17), audited
    "citation_detail": _chart(),
    # ask the chart (issue 18): a question belongs to its chart, for its readers in scope
    "question_ask": _chart("POST"),
    "question_detail": _chart(),
    "answer_citation_detail": _chart(),
    # nurse drafting: nurses start drafts on charts in scope; a draft is its author's alone
    "draft_list": _only("nurse"),
    "draft_create": _author("POST"),
    "draft_detail": _author(),
    "draft_section_save": _author("POST"),
    "draft_sign": _author("POST"),
    "draft_discard": _author("POST"),
    "draft_retry": _author("POST"),
    "draft_print": _author(),
    "draft_citation_detail": _author(),
    # break-glass: a chart reader may ask for any existing chart (in scope: sent straight to it)
    "break_glass_create": {
        "method": "GET",
        "clinician": (OK, OK),
        "nurse": (OK, OK),
        "admin": (DENY, DENY),
        "privacy_officer": (DENY, DENY),
        "anonymous": (LOGIN, LOGIN),
    },
    # hospital-wide lookup by exact MRN or name + birth date: chart readers only (identity, audited)
    "patient_lookup": {
        "method": "GET",
        "clinician": OK,
        "nurse": OK,
        "admin": DENY,
        "privacy_officer": DENY,
        "anonymous": LOGIN,
    },
    "break_glass_review_list": _only("privacy_officer"),
    "break_glass_review": _only("privacy_officer", "POST", ids=True),
    # privacy officer
    "audit_event_list": _only("privacy_officer"),
    "audit_event_export": _only("privacy_officer"),
    "audit_patient_access": _only("privacy_officer"),
    "audit_anomaly_list": _only("privacy_officer"),
    # the record of every model call (issue 14): privacy officers only, for any patient; audited
    "audit_summary_model_calls": _only("privacy_officer", ids=True),
    "audit_draft_model_calls": _only("privacy_officer", ids=True),
    # administrator (no patient identity: patients by id and unit only)
    "user_list": _only("admin"),
    "user_create": _only("admin"),
    "user_edit": _only("admin", ids=True),
    "user_deactivate": _only("admin", ids=True),  # the confirmation page; the POST needs a reason
    "user_reactivate": _only("admin", "POST", ids=True),
    "user_unlock": _only("admin", "POST", ids=True),
    "user_mfa_reset": _only("admin", "POST", ids=True),
    "user_password_reset": _only("admin", "POST", ids=True),
    "care_team_search": _only("admin"),
    "care_team_detail": _only("admin", ids=True),
    "care_team_add": _only("admin", "POST", ids=True),
    "care_team_remove": _only("admin", "POST", ids=True),
    "patient_place": _only("admin", "POST", ids=True),
    "retention_policy_list": _only("admin"),
    "retention_policy_create": _only("admin"),
    "retention_policy_edit": _only("admin", ids=True),
    "retention_policy_approve": _only("admin", method="POST", ids=True),
    "retention_hold_list": _only("admin"),
    "retention_hold_place": _only("admin", "POST"),
    "retention_hold_release": _only("admin", "POST", ids=True),
    "retention_receipt_list": _only("admin"),
    # separation of duties (issue 14): own password change, privacy officers review account changes
    "password_change": _logged_in(),
    "account_change_review_list": _only("privacy_officer"),
    "account_change_review": _only("privacy_officer", "POST", ids=True),
}


def url_patterns(patterns=None, prefix=""):
    """(name, route, kwarg names) of every pattern, recursively; admin and static skipped."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(SKIP_PREFIXES):
            continue
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            yield from url_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield pattern.name, route, tuple(pattern.pattern.regex.groupindex)


PATTERNS = list(url_patterns())
BY_NAME = {name: kwargs for name, _route, kwargs in PATTERNS}


def test_every_url_has_an_access_expectation():
    unnamed = [route for name, route, _ in PATTERNS if not name]
    assert not unnamed, f"URL patterns without a name cannot be checked: {unnamed}"
    missing = sorted(set(BY_NAME) - set(EXPECTED))
    assert not missing, f"new view without an access expectation: add {missing} to EXPECTED in {__file__}"
    stale = sorted(set(EXPECTED) - set(BY_NAME))
    assert not stale, f"EXPECTED lists URL names that no longer exist: {stale}"


def test_every_expectation_is_complete():
    for name, row in EXPECTED.items():
        assert row["method"] in ("GET", "POST"), name
        for role in ROLES:
            value = row[role]
            if BY_NAME.get(name):
                assert isinstance(value, tuple) and len(value) == 2, f"{name}/{role}: give (in scope, out of scope)"
            else:
                assert value in (OK, DENY, LOGIN), f"{name}/{role}"


# --- The world the matrix runs in ---------------------------------------------------------------

IN_MARKERS = ("M-IN-1", "Inwood", "INSCOPE-NOTE-TEXT")
OUT_MARKERS = ("M-OUT-2", "Outram", "OUTSCOPE-NOTE-TEXT")


def _patient_objects(patient, note: Note, carl, nina) -> dict:
    from clinsum.drafting.models import Draft, DraftCitation, DraftSentence
    from clinsum.retention.models import LegalHold

    chunk = Chunk.objects.create(
        note=note, patient=patient, ordinal=0, char_start=0, char_end=len(note.text), text=note.text
    )
    summary = Summary.objects.create(patient=patient, backend="extractive", fingerprint="f" * 64, status="failed")
    claim = Claim.objects.create(summary=summary, section="course", ordinal=0, text="Claim text.", verdict="supported")
    citation = Citation.objects.create(
        claim=claim, note=note, chunk=chunk, source_id="S1", char_start=0, char_end=10, found=True
    )
    from django.utils import timezone

    now = timezone.now()
    grant = BreakGlassGrant.objects.create(
        user=carl,
        patient=patient,
        reason="Matrix fixture grant reason.",
        granted_at=now,
        expires_at=now + timezone.timedelta(hours=1),
    )
    hold = LegalHold.objects.create(patient=patient, reason="matter 1")
    CareTeamMember.objects.create(patient=patient, user=carl)
    draft = Draft.objects.create(
        patient=patient, author=nina, kind="sbar_handoff", backend="extractive", status="ready"
    )
    sentence = DraftSentence.objects.create(
        draft=draft, section="situation", ordinal=0, text="Draft sentence.", origin="generated", verdict="supported"
    )
    draft_citation = DraftCitation.objects.create(
        sentence=sentence, note=note, chunk=chunk, source_id="S1", char_start=0, char_end=10, found=True
    )
    from clinsum.asking.models import AnswerCitation, AnswerSentence, Question

    question = Question.objects.create(
        patient=patient, asked_by=None, text="Matrix question?", backend="extractive", status="answered"
    )
    answer = AnswerSentence.objects.create(question=question, ordinal=0, text="Answer text.", verdict="supported")
    answer_citation = AnswerCitation.objects.create(
        sentence=answer, note=note, chunk=chunk, source_id="S1", char_start=0, char_end=10, found=True
    )
    return {
        "question_id": question.pk,
        "answer_citation_id": answer_citation.pk,
        "patient_id": patient.pk,
        "note_id": note.pk,
        "chunk_id": chunk.pk,
        "summary_id": summary.pk,
        "citation_id": citation.pk,
        "grant_id": grant.pk,
        "hold_id": hold.pk,
        "draft_id": draft.pk,
        "draft_citation_id": draft_citation.pk,
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Argon2 is deliberately slow; the matrix creates its actors for each of its ~300 cases.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db, clinician, nurse, admin_user, privacy_officer, make_user):
    from clinsum.charts.models import Patient
    from clinsum.retention.models import RetentionPolicy

    carl = make_user("carl", "clinician", "5E")  # owns the grants and care-team rows of the matrix
    p_in = Patient.objects.create(mrn="M-IN-1", family_name="Inwood", given_name="Ida", unit="4W")
    p_out = Patient.objects.create(mrn="M-OUT-2", family_name="Outram", given_name="Otto", unit="ICU")
    notes_ingest(
        notes=[
            note_record("M-IN-1", "INSCOPE-NOTE-TEXT. Afebrile overnight."),
            note_record("M-OUT-2", "OUTSCOPE-NOTE-TEXT. Intubated in ICU."),
        ],
        enqueue=False,
    )
    policy = RetentionPolicy.objects.create(target="progress", keep_days=3650)
    change = AccountChange.objects.create(
        user=carl, changed_by=admin_user, kind=AccountChange.CREATED, new_role="clinician", changed_at=carl.date_joined
    )
    shared = {"user_id": carl.pk, "policy_id": policy.pk, "change_id": change.pk}
    return {
        "in": {**shared, **_patient_objects(p_in, p_in.notes.get(), carl, nurse)},
        "out": {**shared, **_patient_objects(p_out, p_out.notes.get(), carl, nurse)},
        "users": {"clinician": clinician, "nurse": nurse, "admin": admin_user, "privacy_officer": privacy_officer},
    }


def client_for(role: str, world) -> Client:
    client = Client()
    if role != "anonymous":
        login_verified(client, world["users"][role])
    return client


def outcome_of(response) -> str:
    if response.status_code in (401, 403, 404):
        return DENY
    location = response.get("Location", "") or response.get("HX-Redirect", "")
    if response.status_code in (301, 302, 303) or response.get("HX-Redirect"):
        if location.startswith(reverse("login")):
            return LOGIN
        if location.startswith((reverse("mfa_verify"), reverse("mfa_enrol"))):
            return "mfa"  # never expected: the matrix logs in verified
        return OK
    if response.status_code in (200, 204, 400):
        return OK
    return f"status {response.status_code}"


def _url(name: str, ids: dict | None) -> str:
    kwargs = BY_NAME[name]
    if not kwargs:
        return reverse(name)
    unknown = [k for k in kwargs if k not in ids]
    assert not unknown, f"{name}: no test object for URL kwarg(s) {unknown}; add one to the matrix world"
    return reverse(name, kwargs={k: ids[k] for k in kwargs})


def _injected(ids: dict) -> dict:
    """The OUT patient's ids under every name a view might read from a query string or body."""
    return {
        **ids,
        "patient": ids["patient_id"],
        "note": ids["note_id"],
        "draft": ids["draft_id"],
        "summary": ids["summary_id"],
        "citation": ids["citation_id"],
        "question_id": ids["question_id"],
        "mrn": "M-OUT-2",
        "q": "M-OUT-2",
    }


def _request(client, method: str, url: str, *, data: dict | None = None, htmx: bool = False):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    if method == "GET":
        if data:
            url += ("&" if "?" in url else "?") + urlencode(data)
        return client.get(url, **headers)
    return client.post(url, data or {}, **headers)


CASES = [(name, role) for name in sorted(BY_NAME) for role in ROLES]


@pytest.mark.parametrize(("name", "role"), CASES, ids=[f"{n}-{r}" for n, r in CASES])
def test_access(name, role, world):
    if name not in EXPECTED:
        pytest.fail(f"new view without an access expectation: {name}")
    row = EXPECTED[name]
    method = row["method"]
    subjects = ("in", "out") if BY_NAME[name] else ("none",)
    for index, subject in enumerate(subjects):
        expected = row[role][index] if subject != "none" else row[role]
        ids = world[subject] if subject != "none" else world["in"]
        url = _url(name, ids)
        variants = [False, True] if method == "GET" else [False]
        for htmx in variants:
            client = client_for(role, world)
            response = _request(client, method, url, htmx=htmx)
            got = outcome_of(response)
            assert got == expected, (
                f"{method} {url} as {role} ({subject} scope{', htmx' if htmx else ''}): expected {expected}, got {got}"
            )
            if got == DENY:
                body = response.content.decode(errors="replace")
                # A chart reader's 403 for an existing chart names the patient (audited) to confirm
                # before break-glass (issue 17); nobody else's refusal does, and none shows note text.
                names_patient = role in CHART_READERS and response.status_code == 403 and "break-glass" in body
                shown = OUT_MARKERS[:2] if names_patient and subject == "out" else ()
                leaked = [m for m in OUT_MARKERS + IN_MARKERS if m in body and m not in shown]
                assert not leaked, f"{url} as {role}: a refusal shows {leaked}"


CHART_READERS = ("clinician", "nurse")


@pytest.mark.parametrize("role", CHART_READERS)
@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_no_other_patient_through_query_string_or_body(name, role, world):
    """IDOR: a chart reader's request for an in-scope object, with the out-of-scope patient's ids
    added to the query string and the POST body, never shows the out-of-scope patient."""
    if name not in EXPECTED:
        pytest.fail(f"new view without an access expectation: {name}")
    method = EXPECTED[name]["method"]
    url = _url(name, world["in"])
    for htmx in (False, True):
        client = client_for(role, world)
        response = _request(client, method, url, data=_injected(world["out"]), htmx=htmx)
        body = response.content.decode(errors="replace")
        # The injected MRN may be echoed back in a search box; the name and note text must not be.
        leaked = [m for m in OUT_MARKERS if m in body and m != "M-OUT-2"]
        assert not leaked, f"{method} {url} as {role} with out-of-scope ids injected shows {leaked}"


@pytest.mark.parametrize("role", CHART_READERS)
def test_searching_for_another_patient_finds_nothing(role, world):
    client = client_for(role, world)
    for query in ("Outram", "M-OUT-2", "Otto"):
        body = client.post(reverse("patient_list"), {"q": query}).content.decode()
        assert "M-OUT-2" not in body.replace('value="M-OUT-2"', "") and "Outram" not in body.replace(
            'value="Outram"', ""
        ), query


@pytest.mark.parametrize("role", CHART_READERS)
def test_in_scope_reads_really_show_the_chart(role, world):
    """Guards the leak checks above: the markers do appear where access is allowed."""
    client = client_for(role, world)
    assert "M-IN-1" in client.get(reverse("chart_detail", args=[world["in"]["patient_id"]])).content.decode()
    assert "INSCOPE-NOTE-TEXT" in client.get(reverse("note_detail", args=[world["in"]["note_id"]])).content.decode()
    cited = client.get(reverse("citation_detail", args=[world["in"]["citation_id"]]))
    assert "INSCOPE-NOTE-TEXT"[:10] in cited.content.decode()
