"""Applying a service call's outcome: on PostgreSQL with no transaction open, one guarded
statement (runtime.store.flight) instead of a transaction; everything else, and any
outcome whose instance changed while the call ran, the ordinary way. Either way a user
sees the same rows and the same history.

Transactional tests: only a worker with no transaction open takes the one-statement way."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runtime import services, workers
from runtime.store import flight
from runtime.engine.testing.builder import GraphBuilder
from runtime.models import HistoryEvent, HumanTask, ProcessInstance, ServiceCall, Token
from tests.runtime.graphs import HANDLERS

pytestmark = pytest.mark.django_db(transaction=True)
PG = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the one-statement way is PostgreSQL's")


def calls(key, handlers_=("ok", "ok", "ok"), then=None):
    b = GraphBuilder(key)
    b.start("s")
    names = [f"c{i}" for i in range(1, len(handlers_) + 1)]
    for name, handler in zip(names, handlers_):
        b.service(name, connector="python", handler=HANDLERS + handler, result_variable=f"r_{name}",
                  inputs=[{"name": "n", "expr": "n + 1"}])
    tail = [then] if then else []
    if then:
        b.user(then, candidate_groups="reviewers")
    b.end("e").chain("s", *names, *tail, "e")
    return b


@pytest.fixture
def sent(monkeypatch):
    """Wake-ups handed to the broker are only recorded."""
    from runtime.store import wakeups

    out = []
    monkeypatch.setattr(wakeups, "send_now", lambda pending: out.extend(name for name, _, _ in pending))
    return out


def run_chain(key, **variables) -> ProcessInstance:
    instance = services.instance_start(process_key=key, variables={"n": 1, **variables})
    first = ServiceCall.objects.filter(instance=instance).order_by("pk").first()
    workers.service_call_execute(call_id=first.pk)
    return ProcessInstance.objects.get(pk=instance.pk)


def story(instance) -> list[tuple]:
    """The history as a user reads it (ids and timings left out)."""
    drop = {"call", "elapsed", "task", "wait"}  # ids, new each run
    return [(e.seq, e.type, e.node_id, e.from_state, e.to_state, {k: v for k, v in e.data.items() if k not in drop})
            for e in HistoryEvent.objects.filter(instance=instance).order_by("seq")]


def test_a_chain_of_outcomes_writes_what_the_ordinary_way_writes(deploy, handlers, sent, monkeypatch):
    deploy(calls("fast"))
    with CaptureQueriesContext(connection) as queries:
        fast = run_chain("fast")
    monkeypatch.setattr(flight, "NEEDS_TRANSACTION", [lambda: True])  # as an active webhook would
    slow = run_chain("fast")
    for instance in (fast, slow):
        assert instance.status == "completed" and instance.variables["r_c3"] == {"doubled": 4}
        assert [(c.node_id, c.state, c.attempt, c.result) for c in instance.service_calls.order_by("pk")] == [
            ("c1", "succeeded", 1, {"doubled": 4}), ("c2", "succeeded", 1, {"doubled": 4}),
            ("c3", "succeeded", 1, {"doubled": 4})]
        assert not Token.objects.filter(instance=instance).exists()
    assert story(fast) == story(slow)
    assert [e[0] for e in story(fast)] == list(range(1, fast.history_seq + 1))
    if connection.vendor == "postgresql":  # each outcome one statement, no transaction
        statements = [q["sql"].split()[0] for q in queries if q["sql"].startswith(("WITH", "BEGIN", "COMMIT"))]
        # the start (instance, token, call, history) and the first call's claim are one statement too
        assert statements == ["WITH"] * 5


def test_a_start_that_stops_at_a_call_hands_the_worker_a_call_it_can_run(deploy, handlers, sent):
    deploy(calls("begin", handlers_=("ok",)))
    with CaptureQueriesContext(connection) as queries:
        instance = services.instance_start(process_key="begin", variables={"n": 1})
    if connection.vendor == "postgresql":
        assert [q["sql"].split()[0] for q in queries if not q["sql"].startswith("SELECT")] == ["WITH"]
    call = ServiceCall.objects.get(instance=instance)
    assert (call.node_id, call.state, call.idempotency_key) == ("c1", "pending", f"{instance.pk}:{call.wait_id}")
    assert list(Token.objects.filter(instance=instance).values_list("node_id", "state")) == [("c1", "waiting")]
    assert sent == ["service_call_execute_task"]
    assert [e[1] for e in story(instance)][-1] == "service_call.state"  # created pending, numbered in order
    assert workers.service_call_execute(call_id=call.pk) == "succeeded"
    assert ProcessInstance.objects.get(pk=instance.pk).status == "completed"


def test_a_receiver_writing_after_a_flight_landed_writes_once_and_nothing_runs_twice(deploy, handlers, sent):
    from django.contrib.auth.models import Group
    from django.db.models.signals import post_save

    def note_status(sender, instance, **kwargs):  # an app's receiver that writes, committing on its own
        Group.objects.get_or_create(name=f"seen-{instance.pk}-{instance.status}")

    deploy(calls("noted", handlers_=("ok",)))
    post_save.connect(note_status, sender=ProcessInstance)
    try:
        instance = services.instance_start(process_key="noted", variables={"n": 1})
        workers.service_call_execute(call_id=ServiceCall.objects.get(instance=instance).pk)
    finally:
        post_save.disconnect(note_status, sender=ProcessInstance)
    assert ProcessInstance.objects.count() == 1 and ServiceCall.objects.count() == 1
    assert ProcessInstance.objects.get().status == "completed" and len(handlers.CALLS) == 1
    assert {f"seen-{instance.pk}-running", f"seen-{instance.pk}-completed"} <= set(
        Group.objects.values_list("name", flat=True))


def test_a_second_wake_up_for_a_claimed_call_is_a_recorded_no_op(deploy, handlers, sent):
    deploy(calls("twice", handlers_=("ok",)))
    instance = services.instance_start(process_key="twice", variables={"n": 1})
    call = ServiceCall.objects.get(instance=instance)
    claimed, _ = workers._claim_attempt(call.pk)  # a worker took it and is calling the service
    assert workers.service_call_execute(call_id=call.pk) == "skipped"
    row = ServiceCall.objects.get(pk=call.pk)
    assert (row.state, row.attempt, row.started_at) == ("running", 1, claimed.started_at)
    ignored = HistoryEvent.objects.get(instance=instance, type="event.ignored")
    assert ignored.data["reason"] == "call is running"
    assert handlers.CALLS == []


def test_an_instance_suspended_while_its_call_ran_keeps_the_suspension(deploy, handlers, sent):
    deploy(calls("held", handlers_=("suspend_own_instance", "ok")))
    instance = run_chain("held")
    assert instance.status == "suspended"
    c1, c2 = instance.service_calls.order_by("pk")
    assert (c1.state, c1.result, instance.variables["r_c1"]) == ("succeeded", "answered", "answered")
    assert (c2.state, c2.attempt) == ("pending", 0)  # not started while suspended
    assert [e[0] for e in story(instance)] == list(range(1, instance.history_seq + 1))
    services.instance_resume(instance=instance.pk)
    workers.service_call_execute(call_id=c2.pk)
    instance.refresh_from_db()
    assert instance.status == "completed" and instance.variables["r_c2"] == {"doubled": 4}


def test_an_outcome_that_opens_a_human_task_writes_it_with_its_candidates(deploy, handlers, users, sent):
    deploy(calls("to_people", handlers_=("ok",), then="review"))
    instance = run_chain("to_people")
    task = HumanTask.objects.get(instance=instance)
    assert (task.node_id, task.state, list(task.candidate_groups.values_list("name", flat=True))) == (
        "review", "open", ["reviewers"])
    assert instance.service_calls.get().state == "succeeded"
    assert list(Token.objects.filter(instance=instance).values_list("node_id", flat=True)) == ["review"]
    assert [e[0] for e in story(instance)] == list(range(1, instance.history_seq + 1))


@PG
def test_a_flight_whose_guard_fails_writes_nothing(deploy, handlers, sent):
    from runtime.store import UnitOfWork
    from runtime.store.flight import Flight, FlightConflict

    deploy(calls("guarded", handlers_=("ok",)))
    instance = services.instance_start(process_key="guarded", variables={"n": 1})
    stale = ProcessInstance.objects.get(pk=instance.pk)
    services.instance_suspend(instance=instance.pk)  # someone else wrote the row since it was read
    suspended = ProcessInstance.objects.get(pk=instance.pk)
    flight = Flight(stale)
    buffer = UnitOfWork(actor="test").history(stale)
    buffer.add("note")
    stale.variables = {"n": 99}
    flight.update_instance(stale)
    flight.history(buffer.number())
    with pytest.raises(FlightConflict):
        flight.send()
    row = ProcessInstance.objects.get(pk=instance.pk)
    assert (row.status, row.variables, row.history_seq) == ("suspended", {"n": 1}, suspended.history_seq)
    assert not HistoryEvent.objects.filter(instance=instance, type="note").exists()


@PG
def test_the_flights_are_prepared_on_the_server_after_a_few_runs(deploy, handlers, sent):
    """Django turns psycopg's prepared statements off; the settings turn them back on, so
    PostgreSQL plans a flight once per connection instead of every time."""
    deploy(calls("prepared", handlers_=("ok",)))
    for _ in range(6):
        run_chain("prepared")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH u AS (%%'")
        assert cursor.fetchone()[0] >= 2  # the start's and the outcome's
