"""Exclusive, parallel, inclusive (split) and event-based gateways."""
import pytest

from runtime.engine import EngineError
from runtime.engine import commands as cmd
from runtime.engine.testing.builder import GraphBuilder, message, timer
from runtime.engine.testing.driver import Driver


def _xor(default: bool = True):
    b = GraphBuilder().start("s").gateway("x", "exclusive")
    for name in ("big", "medium", "small"):
        b.script(name, route=f"'{name}'").end(f"end_{name}").chain(name, f"end_{name}")
    b.chain("s", "x").flow("x", "big", "amount > 100").flow("x", "medium", "amount > 10")
    if default:
        b.flow("x", "small", default=True)
    return b.graph()


@pytest.mark.parametrize("amount, route", [(500, "big"), (50, "medium"), (1, "small")])
def test_exclusive_takes_first_true_condition_in_order_else_default(amount, route):
    d = Driver(_xor())
    d.start(amount=amount)
    assert d.variables["route"] == route and d.status == "completed"


def test_exclusive_without_match_or_default_is_an_engine_error():
    d = Driver(_xor(default=False))
    with pytest.raises(EngineError) as info:
        d.start(amount=1)
    assert info.value.node == "x"


def test_parallel_fork_and_join_waits_for_every_incoming_flow():
    b = GraphBuilder().start("s").gateway("fork", "parallel").user("a").user("b").script("c", c="1")
    b.gateway("join", "parallel").script("after", done="True").end("e")
    b.chain("s", "fork").chain("fork", "a", "join").chain("fork", "b", "join").chain("fork", "c", "join")
    b.chain("join", "after", "e")
    d = Driver(b.graph())
    d.start()
    assert d.token_nodes() == ["a", "b", "join"]
    d.complete("a")
    assert d.token_nodes() == ["b", "join", "join"] and "done" not in d.variables
    d.complete("b")
    assert d.variables["done"] is True and d.status == "completed"
    assert sum(1 for h in d.history if h.type == "gateway.fired" and h.node == "join") == 1


def test_inclusive_split_takes_all_true_conditions_or_default():
    b = GraphBuilder().start("s").gateway("split", "inclusive").gateway("join", "inclusive").end("e")
    for name in ("a", "b", "c"):
        b.script(name, **{name: "True"})
    b.chain("s", "split").flow("split", "a", "x > 1").flow("split", "b", "x > 2")
    b.flow("split", "c", default=True)
    b.chain("a", "join").chain("b", "join").chain("c", "join").chain("join", "e")
    for x, expected in [(5, {"a", "b"}), (2, {"a"}), (0, {"c"})]:
        d = Driver(b.graph())
        d.start(x=x)
        assert d.status == "completed"
        assert {k for k in "abc" if k in d.variables} == expected


def test_event_based_gateway_first_event_wins_and_cancels_the_others():
    b = GraphBuilder().start("s").gateway("g", "eventBased")
    b.catch("paid", message("payment", "=order_id")).catch("late", timer("duration", "PT1H"))
    b.receive("cancelled", "cancel", "=order_id")
    b.end("e1").end("e2").end("e3")
    b.chain("s", "g").chain("g", "paid", "e1").chain("g", "late", "e2").chain("g", "cancelled", "e3")
    d = Driver(b.graph())
    d.start(order_id=7)
    assert sorted(w.node for w in d.state.waits.values()) == ["cancelled", "late", "paid"]
    subscribed = {c.node: c.correlation_key for c in d.commands_of(cmd.SubscribeMessage)}
    assert subscribed == {"paid": 7, "cancelled": 7}
    result = d.message("payment", 7, amount=10)
    assert d.status == "completed" and d.variables["amount"] == 10
    assert {type(c).__name__ for c in result.commands} >= {"CancelTimer", "Unsubscribe"}
    assert d.passed("e1") and not d.passed("e2")


def test_event_based_gateway_timer_wins():
    b = GraphBuilder().start("s").gateway("g", "eventBased")
    b.catch("paid", message("payment")).catch("late", timer("duration", "PT1H")).end("e1").end("e2")
    b.chain("s", "g").chain("g", "paid", "e1").chain("g", "late", "e2")
    d = Driver(b.graph())
    d.start()
    d.fire("late")
    assert d.status == "completed" and d.passed("e2") and not d.state.waits
    assert d.message("payment").ignored


def test_event_based_gateway_receive_task_target():
    b = GraphBuilder().start("s").gateway("g", "eventBased")
    b.receive("r", "go").catch("late", timer("duration", "PT1H")).end("e1").end("e2")
    b.chain("s", "g").chain("g", "r", "e1").chain("g", "late", "e2")
    d = Driver(b.graph())
    d.start()
    d.message("go", x=1)
    assert d.status == "completed" and d.variables == {"x": 1} and d.passed("e1")
