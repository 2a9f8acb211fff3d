"""Smoke test of the ``human`` scenario: Daphne, a Celery worker, the inbox socket and the
REST API come up, and both figures are recorded. Service mode only (PostgreSQL + Redis);
no latency is asserted, on purpose.

Its bench databases carry a namespace derived from the test directory, so parallel test
runs never share one; Redis db ``BENCH_FLOWYARD_REDIS_DB`` (default 13) holds its queues.
"""
from __future__ import annotations

import hashlib
import json
import os

import pytest

from bench import pg, references, run
from bench.workers import redis_available, redis_url
from tests.conftest import TEST_DIR

pytestmark = [pytest.mark.service, pytest.mark.timeout(180)]


def test_human_quick_runs_and_records_p50_and_p99(tmp_path, monkeypatch):
    namespace = "_t" + hashlib.sha256(str(TEST_DIR.resolve()).encode()).hexdigest()[:6]
    redis_db = int(os.environ.get("BENCH_FLOWYARD_REDIS_DB", "13"))
    problem = pg.available() or redis_available(redis_url(redis_db))
    if problem:
        pytest.skip(problem)
    monkeypatch.setattr(references, "FLOWYARD_DB", f"flowyard_bench{namespace}")
    monkeypatch.setattr(references, "FLOWYARD_TEMPLATE_DB", f"flowyard_bench_template{namespace}")
    monkeypatch.setattr(references, "FLOWYARD_REDIS_DB", redis_db)

    assert run.main(["--quick", "--only", "human", "--systems", "flowyard", "--n", "5", "--out", str(tmp_path)]) == 0

    measured = {m["key"]: m for m in json.loads((tmp_path / "results.json").read_text())["measurements"]}
    for key in ("flowyard.human.p50", "flowyard.human.p99"):
        assert measured[key]["error"] == "" and measured[key]["value"] > 0, measured[key]
        assert measured[key]["detail"]["samples"] == 5
    assert measured["flowyard.human.p50"]["value"] <= measured["flowyard.human.p99"]["value"]
