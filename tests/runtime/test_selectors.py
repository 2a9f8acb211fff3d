"""Selectors: who sees which task, instance filters, monitoring counts, start events."""
import pytest

from runtime import selectors, services
from runtime.engine.testing.builder import GraphBuilder, message
from runtime.models import HumanTask
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


def visible(user):
    return sorted(t.node_id for t in selectors.task_list_for_user(user=user))


def test_visibility_by_assignee_candidate_user_group_or_nobody_named(deploy, users, wakeups):
    b = GraphBuilder("mix")
    b.start("s").gateway("split", "parallel").gateway("join", "parallel").end("e").chain("s", "split")
    b.user("for_group", candidate_groups="managers").user("for_user", candidate_users="carol")
    b.user("for_alice", assignee="alice").user("for_anyone")
    for node in ("for_group", "for_user", "for_alice", "for_anyone"):
        b.flow("split", node).flow(node, "join")
    b.flow("join", "e")
    deploy(b)
    with wakeups():
        services.instance_start(process_key="mix")
    assert visible(users.alice) == ["for_alice", "for_anyone"]
    assert visible(users.bob) == ["for_anyone", "for_group"]
    assert visible(users.carol) == ["for_anyone", "for_user"]
    assert len(visible(users.root)) == 4
    assert [t.node_id for t in selectors.task_list_for_user(user=users.alice, mine=True)] == ["for_alice"]
    with wakeups():
        services.task_complete(task=HumanTask.objects.get(node_id="for_anyone"), user=users.carol)
    assert visible(users.alice) == ["for_alice"]
    assert [t.node_id for t in selectors.task_list_for_user(user=users.carol, state="completed")] == ["for_anyone"]


def test_priority_orders_the_inbox(deploy, users, wakeups):
    b = GraphBuilder("prio")
    b.start("s").user("t", priority="=p").end("e").chain("s", "t", "e")
    deploy(b)
    with wakeups():
        for p in (10, 90, 50):
            services.instance_start(process_key="prio", variables={"p": p})
    assert [t.priority for t in selectors.task_list_for_user(user=users.alice)] == [90, 50, 10]


def test_instance_queries_and_monitoring_counts(deploy, users, wakeups):
    version = deploy(graphs.loan())
    with wakeups():
        a = services.instance_start(process_key="loan", variables={"amount": 1}, business_key="A")
        services.instance_start(process_key="loan", variables={"amount": 2}, business_key="B")
        services.instance_cancel(instance=a, user=users.root)
    assert [i.business_key for i in selectors.instance_list(process="loan")] == ["B", "A"]
    assert [i.business_key for i in selectors.instance_list(status="cancelled")] == ["A"]
    assert [i.business_key for i in selectors.instance_list(business_key="B")] == ["B"]
    assert selectors.token_counts(version=version) == {"decide": 1}
    assert selectors.instance_counts(version=version) == {"running": 1, "cancelled": 1}
    history = selectors.instance_history(instance=a, after_seq=3)
    assert history.first().seq == 4
    assert selectors.completed_nodes(instance=a)[:2] == ["s", "score"]


def test_start_events_of_latest_versions(deploy):
    b = GraphBuilder("intake")
    b.start("s", event=message("hello")).end("e").chain("s", "e")
    v1 = deploy(b)
    assert selectors.start_events(kind="message", name="hello") == [(v1.pk, "s")]
    b2 = GraphBuilder("intake")
    b2.start("s2").end("e").chain("s2", "e")
    deploy(b2)
    assert selectors.start_events(kind="message", name="hello") == []
