"""Instance operations: start (latest or given version), cancel, suspend/resume, retry,
and an instance staying on the version it started on."""
import pytest

from runtime import services
from runtime.engine.testing.builder import GraphBuilder
from runtime.models import Continuation, HistoryEvent, HumanTask, Incident, ProcessInstance, TimerJob, Token
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


def test_start_runs_to_the_first_wait_state_in_one_go(deploy, users, wakeups):
    deploy(graphs.loan())
    with wakeups():
        instance = services.instance_start(process_key="loan", variables={"amount": 2500}, business_key="L-1",
                                           user=users.alice)
    instance.refresh_from_db()
    assert instance.status == "running" and instance.business_key == "L-1"
    assert instance.variables == {"amount": 2500, "initiator": "alice", "risk": 2.5}
    assert instance.started_by == users.alice
    assert list(Token.objects.values_list("node_id", "state")) == [("decide", "waiting")]
    seqs = list(HistoryEvent.objects.filter(instance=instance).values_list("seq", flat=True))
    assert seqs == list(range(1, instance.history_seq + 1))
    assert instance.state["format"] == 1 and instance.state_format == 1


def test_start_picks_the_latest_or_the_given_version_and_stays_on_it(deploy, users, wakeups):
    v1 = deploy(graphs.loan())
    with wakeups():
        old = services.instance_start(process_key="loan", variables={"amount": 1})
    b = GraphBuilder("loan")
    b.start("s").end("e").chain("s", "e")
    v2 = deploy(b)
    with wakeups():
        new = services.instance_start(process_key="loan", variables={"amount": 1})
        pinned = services.instance_start(process_key="loan", version=1, variables={"amount": 1})
    assert (old.version, new.version, pinned.version) == (v1, v2, v1)
    new.refresh_from_db()
    assert new.status == "completed"
    with wakeups():
        services.task_complete(task=HumanTask.objects.get(instance=old), user=users.root, variables={"approved": True})
    old.refresh_from_db()
    assert old.version == v1 and old.status == "completed" and old.variables["paid"] == 1


def test_start_refuses_unknown_processes_and_bad_variables(deploy, db):
    with pytest.raises(services.NotFound):
        services.instance_start(process_key="nope")
    deploy(graphs.loan())
    with pytest.raises(services.NotFound):
        services.instance_start(process_key="loan", version=7)
    with pytest.raises(services.InvalidInput):
        services.instance_start(process_key="loan", variables={"__class__": 1})
    with pytest.raises(services.InvalidInput):
        services.instance_start(process_key="loan", variables=[1])


def test_cancel_closes_every_wait_and_is_final(deploy, users, wakeups):
    deploy(graphs.order())
    with wakeups():
        instance = services.instance_start(process_key="order", variables={"order_id": 7})
        services.instance_cancel(instance=instance, user=users.root)
    instance.refresh_from_db()
    assert instance.status == "cancelled" and instance.ended_at
    assert not Token.objects.exists()
    assert not instance.subscriptions.exists()
    assert list(TimerJob.objects.values_list("state", flat=True)) == ["cancelled"]
    with pytest.raises(services.Conflict):
        services.instance_cancel(instance=instance, user=users.root)


def test_operations_need_an_operator(deploy, users, wakeups):
    deploy(graphs.loan())
    with wakeups():
        instance = services.instance_start(process_key="loan", variables={"amount": 1})
    for op in (services.instance_cancel, services.instance_suspend, services.instance_retry):
        with pytest.raises(services.PermissionDenied):
            op(instance=instance, user=users.alice)


def test_suspend_holds_events_until_resume(deploy, users, wakeups):
    deploy(graphs.signal_wait())
    with wakeups():
        instance = services.instance_start(process_key="listener")
    services.instance_suspend(instance=instance, user=users.root)
    with pytest.raises(services.Conflict):
        services.instance_suspend(instance=instance, user=users.root)
    with wakeups():
        services.signal_broadcast(name="go")
    instance.refresh_from_db()
    assert instance.status == "suspended"
    assert Continuation.objects.filter(instance=instance).count() == 1
    with wakeups():
        services.instance_resume(instance=instance, user=users.root)
    instance.refresh_from_db()
    assert instance.status == "completed"
    assert not Continuation.objects.exists()
    types = list(HistoryEvent.objects.filter(instance=instance).values_list("type", flat=True))
    assert "event.deferred" in types


def test_a_broken_expression_opens_an_incident_and_retry_runs_the_event_again(deploy, users, wakeups):
    b = GraphBuilder("fragile")
    b.start("s").user("enter").script("calc", ratio="total / count").end("e").chain("s", "enter", "calc", "e")
    deploy(b)
    with wakeups():
        instance = services.instance_start(process_key="fragile")
        services.task_complete(task=HumanTask.objects.get(), user=users.root, variables={"total": 10})
    instance.refresh_from_db()
    assert instance.status == "running" and instance.has_incident and instance.incident_count == 1
    incident = Incident.objects.get()
    assert incident.node_id == "calc" and "count" in incident.message
    assert incident.event["type"] == "TaskCompleted"
    # the last good state is kept: the token still waits at the task
    assert list(Token.objects.values_list("node_id", flat=True)) == ["enter"]
    with wakeups():
        assert services.instance_retry(instance=instance, user=users.root) == 1
    instance.refresh_from_db()
    assert instance.has_incident  # still broken: a new incident, the old one resolved
    assert list(Incident.objects.order_by("id").values_list("state", flat=True)) == ["resolved", "open"]
    # an operator fixes the data the event carries, then retries
    Incident.objects.filter(state="open").update(event={**incident.event, "variables": {"total": 10, "count": 4}})
    with wakeups():
        services.instance_retry(instance=instance, user=users.root)
    instance.refresh_from_db()
    assert instance.status == "completed" and not instance.has_incident
    assert instance.variables["ratio"] == 2.5
