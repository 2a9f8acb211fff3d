"""The harness's child machinery (alternating runs, zygote forks) and history_growth's databases.

No performance threshold is asserted: these check that the figures are produced the way
``bench/RESULTS.md`` says they are.
"""
from __future__ import annotations

import json
import os

import pytest

from bench import history, pg, run
from bench.measure import ChildError, fork_children_of, run_alternating, run_processes, zygotes

pytestmark = pytest.mark.timeout(60)
COUNTER = "tests.bench.runners:Counter"


def test_alternating_runs_each_child_once_per_round_in_abba_order():
    rates = run_alternating(COUNTER, [({}, None), ({}, None)], rounds=3, n=7)

    assert [len(r) for r in rates] == [3, 3] and all(v > 0 for r in rates for v in r)


def test_zygote_forks_the_children_of_its_environment_and_reports_their_errors():
    env = {"BENCH_TEST_ZYGOTE": "1"}
    with zygotes():
        fork_children_of(env, ["json"])
        forked = run_processes(COUNTER, {}, processes=2, n_per_process=3, env=env)["children"]
        spawned = run_processes(COUNTER, {}, processes=1, n_per_process=3, env={"OTHER": "1"})["children"]
        with pytest.raises(ChildError, match="asked to fail"):
            run_processes(COUNTER, {"fail": "prepare"}, processes=1, n_per_process=1, env=env)

    assert forked[0]["ppid"] == forked[1]["ppid"] != os.getpid()  # both from one zygote
    assert forked[0]["pid"] != forked[1]["pid"] and forked[0]["runs"] == 1
    assert spawned[0]["ppid"] == os.getpid()


@pytest.mark.service
def test_history_growth_measures_both_databases_and_keeps_the_filled_one(tmp_path):
    if pg.available():
        pytest.skip("PostgreSQL not reachable")
    args = ["--quick", "--only", "history_growth", "--systems", "flowyard", "--n", "5"]
    runs = []
    for i in range(2):
        assert run.main([*args, "--out", str(tmp_path / str(i))]) == 0
        runs.append(json.loads((tmp_path / str(i) / "results.json").read_text()))
    if runs[0]["notes"]["flowyard_probe"].get("available") is False:
        pytest.skip("Flowyard's services are not available")

    first, second = ({m["key"]: m for m in r["measurements"]} for r in runs)
    for measured in (first, second):
        assert measured["flowyard.history.empty"]["value"] > 0
        filled = measured["flowyard.history.filled"]
        assert filled["value"] > 0 and len(filled["detail"]["round_ratios"]) == 4
        assert filled["detail"]["paired_with"] == "flowyard.history.empty"
    generated = [r["notes"]["history_generated"] for r in runs]
    assert generated[1]["reused"] is True  # same stamp: kept, only the measured instances deleted
    assert history.generated_count(pg.db_url(generated[1]["database"])) == 5
    assert history.generated_without_history(pg.db_url(generated[1]["database"])) == 0  # each copy has its history
    row = next(c for c in runs[1]["comparisons"] if c["scenario"].startswith("history_growth"))
    assert row["ratio"] == pytest.approx(second["flowyard.history.filled"]["detail"]["paired_ratio"])
