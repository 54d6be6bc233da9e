"""Every setting is declared once, in clinsum/settings.py, and every environment variable the code
reads is in the README's "Configuration (environment variables)" table."""

import ast
import re
import subprocess
import sys

import pytest
from django.conf import global_settings

from tests.conftest import ROOT

CLINSUM = ROOT / "clinsum"
SETTINGS = CLINSUM / "settings.py"
LDAP_SETTINGS = CLINSUM / "accounts" / "ldap_settings.py"
ENV_METHODS = {"str", "int", "bool", "list", "db", "float", "json", "path", "url"}
# settings.py's and ldap_settings.py's validating readers: (function, position of the name).
READERS = {"_positive_int": 0, "_choice": 0, "_hour_range": 0, "_bool": 1, "_required": 1}


def _modules():
    return [p for p in CLINSUM.rglob("*.py") if "migrations" not in p.parts]


def _name_arg(call: ast.Call) -> ast.expr | None:
    """The argument naming the variable, if `call` reads the environment."""
    func = call.func
    if isinstance(func, ast.Name) and func.id in READERS:
        position = READERS[func.id]
    elif (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "env"
        and func.attr in ENV_METHODS
    ):
        position = 0  # env.str("X", ...) (django-environ)
    elif isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value):
        position = 0  # os.environ.get("X"), or the `environ` mapping ldap_settings() is given
    elif (
        isinstance(func, ast.Attribute)
        and func.attr == "getenv"
        and isinstance(func.value, ast.Name)
        and func.value.id == "os"
    ):
        position = 0  # os.getenv("X")
    else:
        return None
    return call.args[position] if len(call.args) > position else None


def _is_environ(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "environ") or (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _environment_reads(path) -> list[tuple[int, ast.expr]]:
    """(line, name argument) of every read outside the reader helpers themselves."""
    tree = ast.parse(path.read_text())
    helpers = {n for f in tree.body if isinstance(f, ast.FunctionDef) and f.name in READERS for n in ast.walk(f)}
    reads = []
    for node in ast.walk(tree):
        if node in helpers:
            continue
        if isinstance(node, ast.Call) and (arg := _name_arg(node)) is not None:
            reads.append((node.lineno, arg))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(node.value):
            reads.append((node.lineno, node.slice))  # os.environ["X"]
    return reads


def environment_variables() -> dict[str, str]:
    """Variable name -> where it is read, for every module under clinsum/."""
    found = {}
    for path in _modules():
        for line, arg in _environment_reads(path):
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.setdefault(arg.value, f"{path.relative_to(ROOT)}:{line}")
    return found


def readme_table_variables() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration (environment variables)\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])}


def test_every_environment_variable_is_in_the_readme_table():
    found = environment_variables()
    assert {
        "DATABASE_URL",
        "AUDIT_MIN_RETENTION_DAYS",
        "LDAP_SERVER_URI",
        "LDAP_TIMEOUT_S",
        "CLINSUM_DB_SSLKEY",
        "PROMETHEUS_MULTIPROC_DIR",
        "CLINSUM_PORT",
    } <= set(found)  # the scan works
    missing = {name: where for name, where in found.items() if name not in readme_table_variables()}
    assert missing == {}, "add these to README.md's Configuration (environment variables) table"


def test_every_variable_in_the_readme_table_is_read():
    assert readme_table_variables() - set(environment_variables()) == set()


def test_settings_read_the_environment_by_literal_names():
    """So the two tests above see every variable (a name built at run time would slip past them)."""
    for path in (SETTINGS, LDAP_SETTINGS, CLINSUM / "devstack.py", CLINSUM / "metrics.py"):
        for line, arg in _environment_reads(path):
            assert isinstance(arg, ast.Constant), f"{path.name}:{line} reads a variable whose name is not a literal"


def _settings_calls(function: str):
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == function
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "settings"
            ):
                yield f"{path.relative_to(ROOT)}:{node.lineno}"


def test_no_module_reads_a_setting_with_a_default_of_its_own():
    # A default at the place of use hides a setting from settings.py and can disagree with it; read
    # settings.X. No exceptions: LDAP's settings (CLINSUM_LDAP_*, AUTH_LDAP_*) are read only while
    # LDAP is on, and then settings.py has set them all.
    assert list(_settings_calls("getattr")) == []
    assert list(_settings_calls("hasattr")) == []


def _declared() -> set[str]:
    tree = ast.parse(SETTINGS.read_text())
    names = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    ldap = next(
        n
        for n in ast.parse(LDAP_SETTINGS.read_text()).body
        if isinstance(n, ast.FunctionDef) and n.name == "ldap_settings"
    )
    returned = next(n.value for n in ast.walk(ldap) if isinstance(n, ast.Return))
    names |= {k.value for k in returned.keys}
    return names | {name for name in dir(global_settings) if name.isupper()}


def test_every_setting_the_code_reads_is_declared():
    declared = _declared()
    undeclared = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}"
        for path in _modules()
        if path != SETTINGS
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "settings"
        and node.attr.isupper()
        and node.attr not in declared
    ]
    assert undeclared == []


def _settings_in_a_fresh_process(tmp_path, expression: str, **env: str) -> subprocess.CompletedProcess:
    code = f"from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HF_HUB_OFFLINE": "1",
            "CLINSUM_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "clinsum.settings",
            **env,
        },
    )


def test_the_audit_and_retention_variables_reach_the_settings(tmp_path):
    expression = (
        "settings.RETENTION_BATCH_SIZE, settings.RETENTION_MAX_ROUNDS, settings.AUDIT_MIN_RETENTION_DAYS,"
        " settings.AUDIT_ANOMALY_CHARTS_PER_HOUR, settings.AUDIT_AFTER_HOURS, settings.AUDIT_PAGE_SIZE"
    )
    defaults = _settings_in_a_fresh_process(tmp_path, expression)
    assert defaults.stdout.strip() == "500 1000 2192 30 (7, 19) 50", defaults.stderr
    changed = _settings_in_a_fresh_process(
        tmp_path,
        expression,
        RETENTION_BATCH_SIZE="200",
        RETENTION_MAX_ROUNDS="50",
        AUDIT_MIN_RETENTION_DAYS="3653",
        AUDIT_ANOMALY_CHARTS_PER_HOUR="12",
        AUDIT_AFTER_HOURS="8-20",
    )
    assert changed.stdout.strip() == "200 50 3653 12 (8, 20) 50", changed.stderr


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("AUDIT_MIN_RETENTION_DAYS", "365", "AUDIT_MIN_RETENTION_DAYS must be at least 2192 (six years); got 365"),
        ("AUDIT_AFTER_HOURS", "19-7", "AUDIT_AFTER_HOURS must be two hours START-END"),
        ("AUDIT_AFTER_HOURS", "7", "AUDIT_AFTER_HOURS must be two hours START-END"),
        ("RETENTION_BATCH_SIZE", "0", "RETENTION_BATCH_SIZE must be > 0"),
    ],
)
def test_a_bad_value_stops_start_up(tmp_path, variable, value, message):
    result = _settings_in_a_fresh_process(tmp_path, "settings.DEBUG", **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
