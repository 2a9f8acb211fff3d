"""Statements one engine step costs (counts, not timings): a start that runs straight to its
end writes its instance once, its history in one statement, and nothing else."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runtime import services
from runtime.engine.testing.builder import GraphBuilder
from runtime.models import HistoryEvent, HumanTask, ProcessInstance
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


def straight(key="straight", steps=10):
    b = GraphBuilder(key)
    b.start("s")
    for i in range(steps):
        b.script(f"t{i}", **{f"x{i}": str(i)})
    b.end("e").chain("s", *[f"t{i}" for i in range(steps)], "e")
    return b


def writes(queries, table):
    return [q["sql"].split()[0] for q in queries if f'"{table}"' in q["sql"] and not q["sql"].startswith("SELECT")]


def test_a_straight_through_start_inserts_its_instance_once_with_its_final_state(deploy):
    deploy(straight())
    with CaptureQueriesContext(connection) as queries:
        instance = services.instance_start(process_key="straight")
    assert writes(queries, "runtime_processinstance") == ["INSERT"]
    assert writes(queries, "runtime_historyevent") == ["INSERT"]
    row = ProcessInstance.objects.get(pk=instance.pk)
    assert row.status == "completed" and row.variables["x9"] == 9
    seqs = list(HistoryEvent.objects.filter(instance=row).values_list("seq", flat=True))
    assert seqs == list(range(1, row.history_seq + 1))


def test_a_start_that_stops_at_a_wait_inserts_its_instance_before_the_rows_that_need_it(deploy, users):
    deploy(graphs.loan())
    instance = services.instance_start(process_key="loan", variables={"amount": 500}, user=users.alice)
    task = HumanTask.objects.get()
    assert task.instance_id == instance.pk and instance.pk is not None
    row = ProcessInstance.objects.get(pk=instance.pk)
    assert row.status == "running" and row.history_seq == HistoryEvent.objects.filter(instance=row).count()
