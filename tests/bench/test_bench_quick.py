"""Smoke test of the bench harness: it runs, measures a reference, and writes its files.

Tiny sizes, SpiffWorkflow only, so it needs neither Flowyard's runtime nor Celery; the
persisted variant needs PostgreSQL and is checked only when the server answers. No
performance threshold is asserted, on purpose: the figures are only meaningful as ratios
from a full run on a quiet machine.
"""
from __future__ import annotations

import json

import pytest

from bench import pg, report, run
from bench.measure import Measurement

pytestmark = pytest.mark.timeout(60)


def test_harness_runs_spiff_straight10_and_writes_results(tmp_path):
    assert run.main(["--quick", "--only", "straight10", "--systems", "spiff", "--n", "5", "--out", str(tmp_path)]) == 0

    data = json.loads((tmp_path / "results.json").read_text())
    measured = {m["key"]: m for m in data["measurements"]}
    memory = measured["spiff.memory.straight10.p1"]
    assert memory["value"] > 0 and memory["detail"]["instances"] == 5
    persisted = measured["spiff.persisted.straight10.p1"]
    pg_problem = pg.available()  # empty when the server answers
    if pg_problem:
        assert persisted["value"] is None and "not reachable" in persisted["error"]
    else:
        assert persisted["value"] > 0
    assert data["machine"]["cores"] >= 1 and data["machine"]["python"]

    markdown = (tmp_path / "RESULTS.md").read_text()
    assert "| scenario | Flowyard | reference | ratio | units | machine | date | command |" in markdown
    assert "SpiffWorkflow" in markdown


def test_ratio_is_flowyard_over_reference_and_missing_systems_say_why():
    results = {
        "flowyard.inproc.straight10.p1": Measurement("flowyard.inproc.straight10.p1", "Flowyard", "straight10", "1 process", "inst/s", 300.0),
        "spiff.persisted.straight10.p1": Measurement("spiff.persisted.straight10.p1", "SpiffWorkflow", "straight10", "persisted", "inst/s", 50.0),
        "spiff.memory.straight10.p1": Measurement("spiff.memory.straight10.p1", "SpiffWorkflow", "straight10", "memory", "inst/s", error="boom"),
    }
    rows = {r["scenario"]: r for r in report.compare(results)}

    assert rows[report.S10_SEQ_VS_PERSISTED]["ratio"] == pytest.approx(6.0)
    assert rows[report.S10_SEQ_VS_MEMORY]["ratio"] is None
    assert rows[report.S10_SEQ_VS_MEMORY]["reference_error"] == "boom"
    assert rows[report.S10_T4_VS_PERSISTED]["ratio"] is None  # the threaded run was not in this run
    goals = {g["goal"]: g["status"] for g in report.goals(results, list(rows.values()))}
    assert goals["straight10 durable ≥ 10× SpiffWorkflow persisted per step (sequential)"] == "missed"
    assert goals["straight10 durable ≥ 10× SpiffWorkflow persisted per step (1 process x 4 threads)"] == "n/a"
    assert goals["human p99 < 100 ms"] == "n/a"
