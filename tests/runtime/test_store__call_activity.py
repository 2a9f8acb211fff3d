"""Call activities: the child is a linked instance; its end wakes the parent, inline when
it ends in the same transaction, through a continuation row when it ends later."""
import pytest

from runtime import jobs, services
from runtime.engine.testing.builder import GraphBuilder, error
from runtime.models import Continuation, HumanTask, ProcessInstance
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


def test_a_child_that_waits_wakes_its_parent_when_it_ends(deploy, users, wakeups):
    deploy(graphs.child_with_task())
    deploy(graphs.parent())
    with wakeups():
        parent = services.instance_start(process_key="parent", variables={"x": 4}, business_key="P-1")
    child = ProcessInstance.objects.get(parent=parent)
    assert child.business_key == "P-1" and child.parent_wait and child.variables == {"x": 4}
    assert child.parent_token == parent.tokens.get().token_id
    with wakeups():
        services.task_complete(task=HumanTask.objects.get(instance=child), user=users.root)
    parent.refresh_from_db()
    child.refresh_from_db()
    assert child.status == "completed" and child.variables["y"] == 40
    assert parent.status == "completed" and parent.variables["y"] == 40
    assert not Continuation.objects.exists()


def test_a_straight_through_child_completes_in_the_parents_transaction(deploy, wakeups):
    b = GraphBuilder("child")
    b.start("s").script("calc", y="x + 1").end("e").chain("s", "calc", "e")
    deploy(b)
    deploy(graphs.parent())
    with wakeups():
        parent = services.instance_start(process_key="parent", variables={"x": 1})
    parent.refresh_from_db()
    assert parent.status == "completed" and parent.variables["y"] == 2
    assert ProcessInstance.objects.get(parent=parent).status == "completed"


def test_a_child_error_reaches_the_call_activitys_boundary(deploy, wakeups):
    b = GraphBuilder("child")
    b.start("s").end("boom", event=error("E42")).chain("s", "boom")
    b.data["errors"] = {"err": {"code": "E42", "name": "E42"}}
    deploy(b)
    p = graphs.parent()
    p.boundary("caught", "sub", error("E42")).end("handled").chain("caught", "handled")
    deploy(p)
    with wakeups():
        parent = services.instance_start(process_key="parent", variables={"x": 1})
    parent.refresh_from_db()
    assert ProcessInstance.objects.get(parent=parent).status == "failed"
    assert parent.status == "completed" and parent.state["ended_by"] == "handled"


def test_cancelling_the_parent_cancels_the_child(deploy, users, wakeups):
    deploy(graphs.child_with_task())
    deploy(graphs.parent())
    with wakeups():
        parent = services.instance_start(process_key="parent", variables={"x": 1})
        services.instance_cancel(instance=parent, user=users.root)
    child = ProcessInstance.objects.get(parent=parent)
    assert child.status == "cancelled"
    assert HumanTask.objects.get().state == "cancelled"


def test_a_missing_called_process_fails_the_parent(deploy, wakeups):
    deploy(graphs.parent(child="ghost"))
    with wakeups():
        parent = services.instance_start(process_key="parent", variables={"x": 1})
    parent.refresh_from_db()
    assert parent.status == "failed"


def test_a_lost_child_wake_up_is_re_sent_by_the_reconciler(deploy, users, wakeups, eager_celery):
    from datetime import timedelta

    from django.utils import timezone

    deploy(graphs.child_with_task())
    deploy(graphs.parent())
    with wakeups():
        parent = services.instance_start(process_key="parent", variables={"x": 1})
    eager_celery.conf.task_always_eager = False  # the parent's wake-up is "lost" in a broker
    try:
        services.task_complete(task=HumanTask.objects.get(), user=users.root)
    finally:
        eager_celery.conf.task_always_eager = True
    parent.refresh_from_db()
    assert parent.status == "running" and Continuation.objects.count() == 1
    with wakeups():
        assert jobs.reconcile_wakeups(now=timezone.now() + timedelta(minutes=1)) == 1
    parent.refresh_from_db()
    assert parent.status == "completed" and not Continuation.objects.exists()
