"""Content-Security-Policy: the header on HTML pages, and templates that need nothing inline."""

import json
import re

import pytest
from django.urls import reverse

from tests.conftest import ROOT

TEMPLATES = ROOT / "templates"

EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}

# What a strict policy (no 'unsafe-inline', no 'unsafe-eval') blocks in a template: elements
# anywhere, attributes inside a start tag (so "one=1" in running text is not a handler).
ELEMENT_PATTERNS = {
    "inline <script> without src": re.compile(r"<script\b(?![^>]*\ssrc\s*=)[^>]*>", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"javascript\s*:", re.I),
}
ATTRIBUTE_PATTERNS = {
    "on*= event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on attribute (needs eval)": re.compile(r"\s(?:data-)?hx-on(?:[:-]|\s*=)", re.I),
    "style= attribute": re.compile(r"\sstyle\s*=", re.I),
}
START_TAG = re.compile(r"<[a-z][^<>]*>", re.I)
DJANGO_TAG = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)


def inline_violations(text: str) -> list[str]:
    """Names of the inline constructs in `text`, with their line numbers."""
    hits = [(m.start(), name) for name, pattern in ELEMENT_PATTERNS.items() for m in pattern.finditer(text)]
    # Template tags blanked (same length) so a ">" inside "{% if n > 1 %}" does not end an HTML tag.
    blanked = DJANGO_TAG.sub(lambda m: " " * len(m.group()), text)
    for tag in START_TAG.finditer(blanked):
        for name, pattern in ATTRIBUTE_PATTERNS.items():
            hits += [(tag.start() + m.start(), name) for m in pattern.finditer(tag.group())]
    return [f"line {text.count(chr(10), 0, start) + 1}: {name}" for start, name in sorted(hits)]


def policy_parse(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize(
    "bad",
    [
        "<script>alert(1)</script>",
        '<SCRIPT type="text/javascript">x()</SCRIPT>',
        '<button type="button" onclick="go()">Go</button>',
        '<body onload = "init()">',
        '<div hx-on:click="go()"></div>',
        '<div hx-on::after-request="x()"></div>',
        '<p style="color: red">x</p>',
        "<span\nstyle='display:none'>x</span>",
        "<style>.x { color: red; }</style>",
        '<a href="javascript:void(0)">x</a>',
        '<div {% if n > 1 %}style="width: 2em"{% endif %}>x</div>',
    ],
)
def test_the_scanner_finds_inline_code_and_styles(bad):
    assert inline_violations(f"<div>\n{bad}\n</div>")


def test_the_scanner_passes_external_scripts_and_data_attributes():
    good = (
        '<script src="/static/idle.js" defer></script>\n'
        '<div id="panel" class="summary-panel" data-status="done" data-online="1" hx-get="/s/1/" '
        'hx-trigger="every 2s">Based on notes, one=1</div>\n'
        '<link rel="stylesheet" href="/static/clinsum.css">'
    )
    assert inline_violations(good) == []


def test_no_template_needs_inline_script_or_style():
    files = [path for path in TEMPLATES.rglob("*") if path.is_file()]
    assert len(files) > 10
    found = {}
    for path in files:
        violations = inline_violations(path.read_text())
        if violations:
            found[str(path.relative_to(ROOT))] = violations
    assert found == {}


def test_htmx_is_told_not_to_inject_styles_or_eval():
    base = (TEMPLATES / "base.html").read_text()
    meta = re.search(r"""<meta name="htmx-config" content='([^']*)'>""", base)
    assert meta, "templates/base.html has no htmx-config meta"
    config = json.loads(meta.group(1))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    # htmx's own indicator rules live in the stylesheet instead.
    assert ".htmx-indicator" in (ROOT / "static" / "clinsum.css").read_text()


def test_the_login_page_carries_the_policy(db, client):
    response = client.get(reverse("login"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    header = response["Content-Security-Policy"]
    assert policy_parse(header) == EXPECTED_POLICY
    assert "unsafe-" not in header
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_a_chart_page_carries_the_policy(client, clinician, ward):
    client.force_login(clinician)
    response = client.get(reverse("chart_detail", args=[ward["p1"].pk]))
    assert response.status_code == 200
    assert policy_parse(response["Content-Security-Policy"]) == EXPECTED_POLICY
    assert "unsafe-" not in response["Content-Security-Policy"]
