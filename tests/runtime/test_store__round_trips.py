"""Statements one engine step costs (counts, not timings): a start that runs straight to its
end writes its instance once, its history in one statement, and nothing else.

Transactional tests: a start called with no transaction open runs outside one until its
first write (runtime.services._start), and only such a test has none open."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runtime import services
from runtime.engine.testing.builder import GraphBuilder
from runtime.models import HistoryEvent, HumanTask, ProcessInstance
from tests.runtime import graphs

pytestmark = pytest.mark.django_db(transaction=True)


def straight(key="straight", steps=10):
    b = GraphBuilder(key)
    b.start("s")
    for i in range(steps):
        b.script(f"t{i}", **{f"x{i}": str(i)})
    b.end("e").chain("s", *[f"t{i}" for i in range(steps)], "e")
    return b


def writes(queries, table):
    return [q["sql"].split()[0] for q in queries if f'"{table}"' in q["sql"] and not q["sql"].startswith("SELECT")]


@pytest.fixture
def no_webhooks_known(monkeypatch):
    """Webhooks remembers "there are none" for a second; a slow machine let it expire between
    the two starts and its re-check showed up among the start's statements."""
    import time

    from webhooks import services as hooks

    monkeypatch.setattr(hooks, "_none_until", time.monotonic() + 60)


def test_a_straight_through_start_inserts_its_instance_once_with_its_final_state(deploy, no_webhooks_known):
    deploy(straight())
    services.instance_start(process_key="straight")  # the first start looks its version up
    with CaptureQueriesContext(connection) as queries:
        instance = services.instance_start(process_key="straight")
    if connection.vendor == "postgresql":  # one statement, committing by itself: instance + history
        assert [q["sql"].split()[0] for q in queries] == ["WITH"]
        assert 'INSERT INTO "runtime_processinstance"' in queries[0]["sql"]
        assert 'INSERT INTO "runtime_historyevent"' in queries[0]["sql"]
    else:
        assert writes(queries, "runtime_processinstance") == ["INSERT"]
        assert writes(queries, "runtime_historyevent") == ["INSERT"]
    row = ProcessInstance.objects.get(pk=instance.pk)
    assert row.status == "completed" and row.variables["x9"] == 9
    seqs = list(HistoryEvent.objects.filter(instance=row).values_list("seq", flat=True))
    assert seqs == list(range(1, row.history_seq + 1))


def test_a_start_sees_a_version_deployed_after_it_cached_the_latest(deploy):
    """The cached latest version is only a hint: the INSERT checks it, and a start whose
    check fails starts again on the new version (as a deploy from another process would)."""
    first = deploy(straight(steps=1))
    assert services.instance_start(process_key="straight").version_id == first.pk
    second = deploy(straight(steps=2))
    instance = services.instance_start(process_key="straight")
    assert instance.version_id == second.pk
    row = ProcessInstance.objects.get(pk=instance.pk)
    assert row.version_id == second.pk and row.variables == {"x0": 0, "x1": 1} and row.status == "completed"
    assert ProcessInstance.objects.count() == 2  # the failed check inserted nothing


def test_a_start_that_stops_at_a_wait_inserts_its_instance_before_the_rows_that_need_it(deploy, users):
    deploy(graphs.loan())
    instance = services.instance_start(process_key="loan", variables={"amount": 500}, user=users.alice)
    task = HumanTask.objects.get()
    assert task.instance_id == instance.pk and instance.pk is not None
    row = ProcessInstance.objects.get(pk=instance.pk)
    assert row.status == "running" and row.history_seq == HistoryEvent.objects.filter(instance=row).count()


def test_a_start_whose_first_step_fails_keeps_the_instance_and_its_incident(deploy):
    b = GraphBuilder("broken")
    b.start("s")
    b.script("t", x="1/0")
    b.end("e").chain("s", "t", "e")
    deploy(b)
    instance = services.instance_start(process_key="broken")
    row = ProcessInstance.objects.get(pk=instance.pk)
    assert row.has_incident and row.incidents.get().node_id == "t"
