"""Smoke test of the ``human`` scenario: Daphne, a Celery worker, the inbox socket and the
REST API come up, and both figures are recorded. Service mode only (PostgreSQL + Redis);
no latency is asserted, on purpose.
"""
from __future__ import annotations

import json

import pytest

from bench import run

pytestmark = [pytest.mark.service, pytest.mark.timeout(180)]


def test_human_quick_runs_and_records_p50_and_p99(tmp_path, flowyard_bench):
    assert run.main(["--quick", "--only", "human", "--systems", "flowyard", "--n", "5", "--out", str(tmp_path)]) == 0

    measured = {m["key"]: m for m in json.loads((tmp_path / "results.json").read_text())["measurements"]}
    for key in ("flowyard.human.p50", "flowyard.human.p99"):
        assert measured[key]["error"] == "" and measured[key]["value"] > 0, measured[key]
        assert measured[key]["detail"]["samples"] == 5
    assert measured["flowyard.human.p50"]["value"] <= measured["flowyard.human.p99"]["value"]
