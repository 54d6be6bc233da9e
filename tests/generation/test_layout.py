"""One job pipeline: drafting and any later kind of job use clinsum.summaries.generation, never the
internals of summaries, and summaries knows nothing of drafting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLINSUM = Path(__file__).resolve().parents[2] / "clinsum"
# The public modules of summaries that other kinds of job may use: the backends' types, the
# prompts, the sections, the verifier and the models (ModelCall, verdicts).
SUMMARIES_PUBLIC = {
    "clinsum.summaries.backends",
    "clinsum.summaries.prompts",
    "clinsum.summaries.sections",
    "clinsum.summaries.verification",
    "clinsum.summaries.models",
    "clinsum.summaries.generation",
}


def _imports(package: str) -> list[tuple[str, str, str]]:
    """(file, imported module, imported name or "") for every absolute import in the package."""
    found = []
    for path in sorted((CLINSUM / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found += [(path.name, node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(path.name, alias.name, "") for alias in node.names]
    return found


@pytest.mark.parametrize("package", ["drafting", "summaries/generation"])
def test_it_uses_only_the_public_modules_of_summaries(package):
    wrong = [
        (file, module, name)
        for file, module, name in _imports(package)
        if module.startswith("clinsum.summaries")
        and (not any(module == m or module.startswith(m + ".") for m in SUMMARIES_PUBLIC) or name.startswith("_"))
    ]
    assert wrong == []


def test_drafting_does_not_import_the_summary_services():
    assert not [i for i in _imports("drafting") if i[1] in ("clinsum.summaries.services", "clinsum.summaries.jobs")]


@pytest.mark.parametrize("package", ["summaries", "summaries/generation"])
def test_it_does_not_import_drafting(package):
    assert [i for i in _imports(package) if i[1].startswith("clinsum.drafting")] == []


def test_the_job_lifecycle_lives_in_one_module():
    """Claiming, failing and requeueing a job are written once: no app updates a job's status
    to running, failed or queued itself."""
    for package in ("summaries", "drafting"):
        for path in (CLINSUM / package).glob("*.py"):
            text = path.read_text()
            for needle in (
                'attempts=F("attempts")',
                "status=SummaryStatus.FAILED, error",
                "status=DraftStatus.FAILED, error",
                'update(status="queued"',
            ):
                assert needle not in text, (path.name, needle)
