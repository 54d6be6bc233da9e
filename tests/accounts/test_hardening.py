"""Hardening after the red-team (issue 14): what a break-glass reason, a forwarded address, a failed
SQL statement in PostgreSQL's log and an exported CSV cell may carry; /readyz stays inside."""

import pytest
from django.test import Client


@pytest.mark.parametrize("reason", ["\u200b" * 30, "a" * 20, "aaaa bbbb aaaa bbbb aaaa", "x x x x x x x x x x x x"])
def test_a_break_glass_reason_needs_real_words(reason):
    from clinsum.accounts.forms import BreakGlassForm

    assert not BreakGlassForm(data={"reason": reason}).is_valid()
    assert BreakGlassForm(data={"reason": "covering ICU bed 12 during rapid response"}).is_valid()


@pytest.mark.parametrize("forwarded", ["not-an-ip", "10.0.0.1, <script>", "999.1.1.1"])
def test_a_malformed_forwarded_address_is_a_bad_request_not_a_500(db, settings, forwarded):
    settings.CLINSUM_TRUSTED_PROXIES = 1
    client = Client(raise_request_exception=False)
    assert client.post("/login/", {"username": "x", "password": "y"}, HTTP_X_FORWARDED_FOR=forwarded).status_code == 400
    assert client.get("/login/", HTTP_X_FORWARDED_FOR="10.0.0.7").status_code == 200


def test_postgresql_never_logs_a_failed_statements_text(db):
    """A failed INSERT was logged with the whole note (issue 14, finding 5): the embedded stack
    and compose both set log_min_error_statement to panic."""
    import yaml
    from django.conf import settings as django_settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW log_min_error_statement")
        assert cursor.fetchone()[0] == "panic"
    compose = yaml.safe_load((django_settings.BASE_DIR / "compose.yaml").read_text())
    assert "log_min_error_statement=panic" in compose["services"]["db"]["command"]


def test_readiness_is_not_reachable_through_nginx():
    from django.conf import settings as django_settings

    conf = (django_settings.BASE_DIR / "deploy" / "nginx.conf").read_text()
    block = conf[conf.index("location = /readyz") :]
    assert block[: block.index("}")].split("{", 1)[1].strip() == "deny all;"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("\n=cmd|' /C calc'!A0", "'\n'=cmd|' /C calc'!A0"),
        ("ok;=1+1", "ok;'=1+1"),
        ("  @SUM(A1)", "'  @SUM(A1)"),
        ("ward 4W; bed 12", "ward 4W; bed 12"),
    ],
)
def test_csv_cells_never_start_a_formula_in_any_locale(value, expected):
    from clinsum.audit.export import _cell

    assert _cell(value) == expected
