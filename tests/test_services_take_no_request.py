"""Services are not handed the HTTP request, read from the source (no imports run): no function
in clinsum/*/services.py takes a parameter named `request` or reads `request.<anything>`. The
audit row's origin comes from the request being served (clinsum.audit.origin); session, login and
password checks are the views' work. The one exception is audit_record itself: the audit layer's
API, which views call with their request at the HTTP boundary."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {("clinsum/audit/services.py", "audit_record")}


def request_uses(source: str, path: str = "<source>") -> list[str]:
    """'path:line function: what' for each `request` parameter or `request.` read outside ALLOWED."""
    found = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            function = getattr(node, "name", "<lambda>")
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            if (path, function) not in ALLOWED and any(a is not None and a.arg == "request" for a in every):
                found.append(f"{path}:{node.lineno} {function}: parameter `request`")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "request"
            and (path, function) not in ALLOWED
        ):
            found.append(f"{path}:{node.lineno} {function}: reads request.{node.attr}")
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source), "<module>")
    return found


def test_the_check_finds_a_request_parameter_and_a_read():
    source = "def a(*, user, request=None):\n    pass\n\ndef b(user):\n    request.session['k'] = 1\n"
    assert request_uses(source) == [
        "<source>:1 a: parameter `request`",
        "<source>:5 b: reads request.session",
    ]
    assert request_uses("def summary_request(*, patient, user):\n    return user\n") == []


def test_no_service_takes_or_reads_the_request():
    paths = sorted((ROOT / "clinsum").glob("*/services.py"))
    assert len(paths) >= 7
    found = [use for p in paths for use in request_uses(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    assert not found, "\n".join(found)
