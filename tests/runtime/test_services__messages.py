"""Message correlation (name + correlation value), message start events, and signals."""
import pytest

from runtime import services
from runtime.engine.testing.builder import GraphBuilder, message, signal
from runtime.models import HistoryEvent, MessageSubscription, ProcessInstance, TimerJob
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


def start_orders(*ids):
    return [services.instance_start(process_key="order", variables={"order_id": i}) for i in ids]


def test_a_message_reaches_the_instance_with_its_correlation_value(deploy, wakeups):
    deploy(graphs.order())
    with wakeups():
        first, second = start_orders(1, 2)
        result = services.message_correlate(name="payment", correlation_key=2, variables={"amount": 30})
    assert result.matched == [second] and result.instance == second
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("running", "completed")
    assert second.variables["amount"] == 30 and second.variables["shipped"] is True
    # the race is decided: the timer of the matched instance was cancelled
    assert TimerJob.objects.get(instance=second).state == "cancelled"
    assert MessageSubscription.objects.filter(instance=first).count() == 1


def test_correlation_values_match_across_json_types(deploy, wakeups):
    deploy(graphs.order())
    with wakeups():
        (only,) = start_orders(42)
        assert services.message_correlate(name="payment", correlation_key="42").instance == only


def test_nothing_waiting_is_not_found(deploy, wakeups):
    deploy(graphs.order())
    with wakeups():
        start_orders(1)
    with pytest.raises(services.MessageNotCorrelated):
        services.message_correlate(name="payment", correlation_key=99)
    with pytest.raises(services.MessageNotCorrelated):
        services.message_correlate(name="refund", correlation_key=1)
    with pytest.raises(services.NotFound):  # the API maps the family to 404
        services.message_correlate(name="payment")


def test_a_second_identical_message_finds_nothing_left(deploy, wakeups):
    deploy(graphs.order())
    with wakeups():
        start_orders(5)
        services.message_correlate(name="payment", correlation_key=5)
    with pytest.raises(services.MessageNotCorrelated):
        services.message_correlate(name="payment", correlation_key=5)


def test_message_start_event_starts_the_latest_version(deploy, wakeups):
    b = GraphBuilder("intake")
    b.start("s", event=message("new-order")).script("calc", total="qty * 2").user("check").end("e")
    b.chain("s", "calc", "check", "e")
    deploy(b)
    with wakeups():
        result = services.message_correlate(name="new-order", variables={"qty": 4}, business_key="B-9")
    (started,) = result.started
    started.refresh_from_db()
    assert started.variables == {"qty": 4, "total": 8} and started.business_key == "B-9"
    assert started.status == "running"


def test_signals_reach_every_listener_and_start_signal_processes(deploy, wakeups):
    deploy(graphs.signal_wait())
    b = GraphBuilder("on-go")
    b.start("s", event=signal("go")).end("e").chain("s", "e")
    deploy(b)
    with wakeups():
        listeners = [services.instance_start(process_key="listener") for _ in range(3)]
        result = services.signal_broadcast(name="go", variables={"why": "test"})
    assert sorted(i.pk for i in result.matched) == sorted(i.pk for i in listeners)
    assert len(result.started) == 1
    assert set(ProcessInstance.objects.values_list("status", flat=True)) == {"completed"}
    assert services.signal_broadcast(name="go").matched == []


def test_a_thrown_message_is_delivered_after_commit(deploy, wakeups):
    deploy(graphs.order())
    b = GraphBuilder("payer")
    b.start("s").throw("pay", message("payment"), inputs=[{"name": "amount", "expr": "10"}]).end("e").chain("s", "pay", "e")
    b.data["nodes"]["pay"]["props"] = {}
    deploy(b)
    with wakeups():
        (order,) = start_orders(None)
        services.instance_start(process_key="payer")
    order.refresh_from_db()
    assert order.status == "completed"
    assert order.variables["amount"] == 10
    assert HistoryEvent.objects.filter(instance=order, type="event.triggered", node_id="paid").exists()
