"""Access sits below the features: it reads the accounts and charts models and the role checks,
and nothing built on top of it. Accounts imports nothing from charts, and no import between
accounts, charts and access hides inside a function to dodge a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import clinsum

APP_ROOT = Path(clinsum.__file__).parent
LAYER = ("accounts", "charts", "access")
# What clinsum.access may import from the project.
ACCESS_MAY_IMPORT = ("clinsum.accounts.models", "clinsum.accounts.selectors", "clinsum.charts.models",
                     "clinsum.audit.services", "clinsum.access", "retrieval.types")


def imports(app: str):
    """(file, line, module, inside a function) for each import of a project module in the app."""
    for path in sorted((APP_ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        local = {id(node) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for node in ast.walk(fn)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the file's package, up level - 1
                    parts = path.relative_to(APP_ROOT.parent).parts[:-1]
                    package = ".".join(parts[: len(parts) - node.level + 1])
                    module = f"{package}.{node.module}" if node.module else package
                else:
                    module = node.module or ""
                names = [module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith(("clinsum.", "retrieval")):
                    yield path.relative_to(APP_ROOT.parent), node.lineno, name, id(node) in local


def test_access_imports_only_the_models_and_checks_below_it():
    wrong = [f"{path}:{line} {module}" for path, line, module, _ in imports("access")
             if not module.startswith(ACCESS_MAY_IMPORT)]
    assert not wrong


def test_accounts_imports_nothing_from_charts():
    wrong = [f"{path}:{line} {module}" for path, line, module, _ in imports("accounts")
             if module.startswith("clinsum.charts")]
    assert not wrong


def test_no_import_between_accounts_charts_and_access_hides_in_a_function():
    hidden = [f"{path}:{line} {module}" for app in LAYER for path, line, module, in_function in imports(app)
              if in_function and module.split(".")[1] in LAYER and module.split(".")[1] != app]
    assert not hidden
