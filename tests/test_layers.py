"""The house's layering, read from the source (no imports run): the apps under clinsum/ import
each other without a cycle, counting imports inside functions too (an import moved into a
function to dodge a cycle is still a cycle); retrieval/ and demo/ know nothing of Django or
clinsum. Top-level modules of clinsum/ (settings, urls, celery, pages ...) are the project
layer above every app."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "clinsum"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def apps() -> list[str]:
    return sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file() and p.name != "management")


def app_graph() -> dict[str, dict[str, list[str]]]:
    """{app: {other app: [the files that import it]}}; migrations excluded (they name models
    of other apps by design and never import code)."""
    known = set(apps())
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for app in known:
        for path in (PACKAGE / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for name in _imports(path):
                parts = name.split(".")
                if len(parts) > 1 and parts[0] == "clinsum" and parts[1] in known and parts[1] != app:
                    graph[app][parts[1]].append(str(path.relative_to(ROOT)))
    return graph


def find_cycle(graph) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": []}, "b": {"c": []}}) is None


def test_apps_import_each_other_without_a_cycle():
    graph = app_graph()
    cycle = find_cycle(graph)
    if cycle:
        detail = "\n".join(f"  {a} -> {b}: {sorted(set(graph[a][b]))}" for a, b in zip(cycle, cycle[1:]))
        raise AssertionError(f"import cycle {' -> '.join(cycle)}\n{detail}")


# Bottom to top. An app imports only apps in lower layers (so, never one in its own layer).
LAYERS = (
    ("db",),
    ("audit",),  # records events for everyone above; knows no roles (user.reads_audit())
    ("accounts", "charts"),  # who people are; what the chart holds (ingest, indexing, FHIR)
    ("access",),  # who may read which patient, and the reads and pages under that rule
    ("summaries",),  # grounded summaries, their verification and model-call records
    ("drafting", "asking"),  # nurses' drafts and questions of a chart, built on the summaries' generation
    ("retention",),  # deletes across all of the above
)


def test_every_app_has_a_layer():
    assert sorted(app for layer in LAYERS for app in layer) == apps()


def test_apps_import_only_lower_layers():
    level = {app: i for i, layer in enumerate(LAYERS) for app in layer}
    wrong = [
        f"{a} -> {b}: {sorted(set(files))}"
        for a, targets in app_graph().items()
        for b, files in targets.items()
        if level[b] >= level[a]
    ]
    assert not wrong, "\n".join(wrong)


def test_the_django_free_packages_import_no_django_and_no_clinsum():
    for package in ("retrieval", "demo"):
        for path in (ROOT / package).rglob("*.py"):
            bad = {n for n in _imports(path) if n.split(".")[0] in ("django", "clinsum", "celery")}
            assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
