"""The demo package is plain Python: it imports nothing from Django (nor from clinsum, whose
package import starts Celery and Django), so benches and other tools can use it on their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import pkgutil, importlib, sys
import demo
for module in pkgutil.iter_modules(demo.__path__):
    importlib.import_module(f"demo.{module.name}")
demo.demo_ward_generate(seed=7, n_patients=3)
leaked = sorted(name for name in sys.modules if name.split(".")[0] in ("django", "clinsum", "celery"))
assert not leaked, leaked
print("ok", len(list(pkgutil.iter_modules(demo.__path__))))
"""


def test_the_demo_package_imports_no_django():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok ")
