"""Tests mirror the code: each app's services.py, selectors.py and views.py has its test module,
tests/<app>/test_<module>.py, clinsum/pages.py has tests/test_pages.py and clinsum/audit_pages.py
tests/test_audit_pages.py. A module without one is listed below with the reason; an entry that is
no longer true fails too, so the list stays short."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLINSUM = ROOT / "clinsum"
MIRRORED = ("services", "selectors", "views")

# clinsum/<app>/<module>.py -> why tests/<app>/test_<module>.py does not exist.
EXCEPTIONS = {
    "access/services.py": "care-team and break-glass writes are driven through their views in "
    "tests/access/test_views.py; access_end through user_deactivate in tests/accounts/test_views.py",
    "accounts/selectors.py": "the admin, review-queue and enrolment-code reads are exercised through "
    "the pages that use them, in tests/accounts/test_views.py",
    "audit/selectors.py": "the trail search, patient access and anomaly reads are exercised through "
    "the privacy officers' pages, in tests/audit/test_views.py",
    "summaries/services.py": "summary_run is exercised by the generation tests (tests/generation/test_jobs.py, "
    "tests/summaries/test_model_calls.py), summary_request by tests/summaries/test_end_to_end.py",
}


def code_modules() -> list[str]:
    return sorted(
        f"{path.parent.name}/{path.name}"
        for name in MIRRORED
        for path in CLINSUM.glob(f"*/{name}.py")
        if path.parent.name != "management"
    )


def test_the_apps_have_services_selectors_and_views():
    """The walk below finds the modules it is meant to check."""
    assert {"charts/services.py", "summaries/views.py", "access/selectors.py"} <= set(code_modules())


@pytest.mark.parametrize("module", code_modules())
def test_each_module_has_its_test_module_or_a_reason(module):
    app, name = module.split("/")
    test_module = ROOT / "tests" / app / f"test_{name}"
    if module in EXCEPTIONS:
        assert not test_module.exists(), f"{test_module.relative_to(ROOT)} exists: drop {module} from EXCEPTIONS"
    else:
        assert test_module.is_file(), f"{module} has no {test_module.relative_to(ROOT)}"


def test_every_exception_names_a_module_that_exists():
    assert set(EXCEPTIONS) <= set(code_modules())


def test_the_pages_module_has_its_test_module():
    assert (CLINSUM / "pages.py").is_file() and (ROOT / "tests" / "test_pages.py").is_file()


def test_the_audit_pages_module_has_its_test_module():
    assert (CLINSUM / "audit_pages.py").is_file() and (ROOT / "tests" / "test_audit_pages.py").is_file()
