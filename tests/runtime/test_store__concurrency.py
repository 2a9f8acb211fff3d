"""Concurrency on real PostgreSQL: the four branches of each of 200 fork/join instances
complete at the same moment from separate threads. Every join must fire exactly once,
no token may be lost, and nothing may deadlock (bounded waits turn a hang into a failure).
"""
import threading
import time

import pytest
from django.db import connection, connections

from runtime import services
from runtime.models import HistoryEvent, HumanTask, Incident, ProcessInstance, Token
from tests.runtime import graphs

INSTANCES = 200
BRANCHES = 4
GROUPS = 5  # groups of 4 threads, each group racing on its own slice of instances

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks and SKIP LOCKED need PostgreSQL"),
]


def test_simultaneous_branch_completions_fire_each_join_exactly_once(deploy, users):
    deploy(graphs.fork_join("race", branches=BRANCHES))
    t0 = time.monotonic()
    instance_ids = [services.instance_start(process_key="race").pk for _ in range(INSTANCES)]
    started = time.monotonic() - t0
    tasks = {}
    for task_id, instance_id, node in HumanTask.objects.values_list("pk", "instance_id", "node_id"):
        tasks[(instance_id, node)] = task_id
    assert len(tasks) == INSTANCES * BRANCHES

    slices = [instance_ids[g::GROUPS] for g in range(GROUPS)]
    errors: list[BaseException] = []

    def branch_worker(group: int, branch: int, barrier: threading.Barrier) -> None:
        try:
            for instance_id in slices[group]:
                barrier.wait(timeout=20)  # all four branches of this instance go at once
                services.task_complete(task=tasks[(instance_id, f"t{branch}")], user=users.root)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            barrier.abort()
        finally:
            connections.close_all()

    t1 = time.monotonic()
    threads = []
    for group in range(GROUPS):
        barrier = threading.Barrier(BRANCHES)
        threads += [threading.Thread(target=branch_worker, args=(group, b, barrier), daemon=True) for b in range(BRANCHES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    raced = time.monotonic() - t1
    assert not [t for t in threads if t.is_alive()], "a worker thread hung (deadlock?)"
    assert not errors, errors[:3]

    assert ProcessInstance.objects.filter(pk__in=instance_ids, status="completed").count() == INSTANCES
    assert not Token.objects.filter(instance_id__in=instance_ids).exists()
    assert not Incident.objects.exists()
    assert HumanTask.objects.filter(state="completed").count() == INSTANCES * BRANCHES
    joins = HistoryEvent.objects.filter(type="gateway.fired", node_id="join").values_list("instance_id", flat=True)
    assert sorted(joins) == sorted(instance_ids)  # exactly one join per instance
    ends = HistoryEvent.objects.filter(type="token.consumed", node_id="e").values_list("instance_id", flat=True)
    assert sorted(ends) == sorted(instance_ids)
    for instance in ProcessInstance.objects.filter(pk__in=instance_ids[:20]):
        seqs = list(HistoryEvent.objects.filter(instance=instance).values_list("seq", flat=True))
        assert seqs == list(range(1, instance.history_seq + 1))
    print(f"\n{INSTANCES} starts in {started:.1f}s; {INSTANCES * BRANCHES} racing completions in {raced:.1f}s")
