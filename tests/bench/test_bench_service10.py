"""Smoke test of the ``service10`` scenario through real Celery workers: both connectors'
figures are recorded, and the workers run as a deployed worker does. Service mode only
(PostgreSQL + Redis); no throughput or latency is asserted, on purpose.
"""
from __future__ import annotations

import json

import pytest

from bench import run
from bench.workers import CONCURRENCY

pytestmark = [pytest.mark.service, pytest.mark.timeout(180)]
INSTANCES = 24


def test_service10_quick_records_both_connectors_through_workers_that_keep_their_connections(tmp_path, flowyard_bench):
    assert run.main(["--quick", "--only", "service10", "--systems", "flowyard", "--n", str(INSTANCES),
                     "--out", str(tmp_path)]) == 0

    measured = {m["key"]: m for m in json.loads((tmp_path / "results.json").read_text())["measurements"]}
    for key in ("service10.task_ms", "service10_http.task_ms", "service10.w1"):  # quick: no http throughput
        m = measured[f"flowyard.{key}"]
        assert m["error"] == "" and m["value"] > 0, m
    throughput = measured["flowyard.service10.w1"]["detail"]
    assert throughput["instances"] == INSTANCES
    # A worker keeps one connection per thread: a worker opening one per wake-up (as one
    # forked from the bench's zygote did, with the zygote's settings) opens at least one
    # per instance here. Besides the workers: the starter and two stats reads.
    assert throughput["db_sessions_opened"] <= CONCURRENCY + 3, throughput
