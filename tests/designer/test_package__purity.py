"""designer.bpmn stays pure: the soundness checker, bench/ and tests import it without Django."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_and_compiling_loads_no_django():
    code = (
        "import sys, designer.bpmn as b\n"
        "r = b.compile_bpmn(open('tests/data/loan_approval.bpmn', 'rb').read())\n"
        "assert r.ok, r.findings\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'celery', 'channels'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_modules_stay_small():
    for module in (ROOT / "designer" / "bpmn").glob("*.py"):
        assert len(module.read_text().splitlines()) <= 400, module.name
