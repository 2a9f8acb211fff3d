"""Embedded sub-process scopes and call activities."""
from runtime.engine import commands as cmd
from runtime.engine import events as ev
from runtime.engine.testing.builder import GraphBuilder, error, io
from runtime.engine.testing.driver import Driver


def test_sub_process_runs_its_scope_with_local_inputs_and_outputs():
    b = GraphBuilder().start("s").sub("sp", inputs=io(rate="0.2"), outputs=io(tax="net * rate"))
    b.end("e").chain("s", "sp", "e")
    b.start("is", scope="sp").script("calc", scope="sp", net="price - 10").user("check", scope="sp")
    b.end("ie", scope="sp").chain("is", "calc", "check", "ie")
    d = Driver(b.graph())
    d.start(price=110)
    host = next(t for t in d.state.tokens.values() if t.node == "sp")
    assert host.status == "scope" and host.data["locals"] == {"rate": 0.2}
    inner = next(t for t in d.state.tokens.values() if t.node == "check")
    assert inner.scope == host.id
    d.complete("check")
    assert d.status == "completed"
    assert d.variables == {"price": 110, "net": 100, "tax": 20.0}


def test_sub_process_completes_when_all_inner_branches_end():
    b = GraphBuilder().start("s").sub("sp").script("after", after="1").end("e").chain("s", "sp", "after", "e")
    b.start("is", scope="sp").gateway("f", "parallel", scope="sp").user("a", scope="sp")
    b.user("b", scope="sp").end("ea", scope="sp").end("eb", scope="sp")
    b.chain("is", "f").chain("f", "a", "ea").chain("f", "b", "eb")
    d = Driver(b.graph())
    d.start()
    d.complete("a")
    assert "after" not in d.variables
    d.complete("b")
    assert d.variables["after"] == 1 and d.status == "completed"


def _caller():
    b = GraphBuilder().start("s").call("child", "invoice", inputs=io(amount="price * 2"),
                                        outputs=io(invoice_no="number"))
    b.end("e").end("failed_end").boundary("err", "child", error("NO_STOCK")).chain("err", "failed_end")
    return b.chain("s", "child", "e").graph()


def test_call_activity_passes_inputs_and_maps_outputs_from_child_variables():
    d = Driver(_caller())
    d.start(price=5)
    (start,) = d.commands_of(cmd.StartChildInstance)
    assert start.process_key == "invoice" and start.variables == {"amount": 10}
    d.child_done("child", number="INV-1", secret="x")
    assert d.variables == {"price": 5, "invoice_no": "INV-1"}
    assert d.status == "completed"


def test_child_failure_with_error_code_is_caught_by_boundary():
    d = Driver(_caller())
    d.start(price=5)
    d.step(ev.ChildFailed(d.wait("child").id, "NO_STOCK", "none left"))
    assert d.passed("failed_end") and d.status == "completed"


def test_child_failure_without_code_fails_the_parent():
    d = Driver(_caller())
    d.start(price=5)
    d.step(ev.ChildFailed(d.wait("child").id, None, "cancelled by operator"))
    assert d.status == "failed"


def test_cancelling_the_parent_cancels_the_child():
    d = Driver(_caller())
    d.start(price=5)
    result = d.step(ev.Cancel())
    assert [type(c).__name__ for c in result.commands] == ["CancelChild", "InstanceStatusChanged"]
