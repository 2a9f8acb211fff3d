"""Start, end, intermediate catch/throw events: timers, messages, signals, terminate, error."""
import datetime as dt

from runtime.engine import commands as cmd
from runtime.engine import events as ev
from runtime.engine import start_triggers
from runtime.engine.testing.builder import TERMINATE, GraphBuilder, error, io, message, signal, timer
from runtime.engine.testing.driver import EPOCH, Driver


def _catch(event):
    b = GraphBuilder().start("s").catch("wait", event).script("after", done="True").end("e")
    return b.chain("s", "wait", "after", "e").graph()


def test_intermediate_timer_duration_schedules_and_fires():
    d = Driver(_catch(timer("duration", "PT30M")))
    d.start()
    (sched,) = d.commands_of(cmd.ScheduleTimer)
    assert sched.due_at == EPOCH + dt.timedelta(minutes=30) and sched.node == "wait"
    d.fire("wait")
    assert d.variables["done"] is True and d.status == "completed"
    assert d.step(ev.TimerFired(sched.wait_id)).ignored


def test_timer_date_and_expression_values():
    d = Driver(_catch(timer("date", "=deadline")))
    d.start(deadline="2024-02-01T12:00:00Z")
    assert d.commands_of(cmd.ScheduleTimer)[0].due_at == dt.datetime(2024, 2, 1, 12, tzinfo=dt.timezone.utc)


def test_message_catch_correlates_by_key_and_merges_variables():
    d = Driver(_catch(message("paid", "=order_id")))
    d.start(order_id="A1")
    assert d.commands_of(cmd.SubscribeMessage)[0].correlation_key == "A1"
    assert d.message("paid", "B2").ignored
    d.message("paid", "A1", amount=3)
    assert d.variables["amount"] == 3 and d.status == "completed"


def test_message_catch_by_wait_id():
    d = Driver(_catch(message("paid")))
    d.start()
    d.step(ev.MessageReceived(wait_id=d.wait("wait").id, variables={"x": 1}))
    assert d.status == "completed" and d.variables["x"] == 1


def test_signal_catch_and_throw_within_and_outside_the_instance():
    b = GraphBuilder().start("s").gateway("fork", "parallel")
    b.catch("hear", signal("go")).script("heard", heard="True").end("e1")
    b.throw("shout", signal("go"), inputs=io(level="3")).end("e2")
    b.chain("s", "fork").chain("fork", "hear", "heard", "e1").chain("fork", "shout", "e2")
    d = Driver(b.graph())
    d.start()
    (thrown,) = d.commands_of(cmd.ThrowSignal)
    assert thrown.name == "go" and thrown.variables == {"level": 3}
    assert d.variables == {"heard": True, "level": 3}
    assert d.status == "completed"


def test_signal_received_from_outside():
    d = Driver(_catch(signal("alarm")))
    d.start()
    assert d.signal("other").ignored
    d.signal("alarm", who="ops")
    assert d.variables["who"] == "ops" and d.status == "completed"


def test_message_throw_and_end_publish():
    b = GraphBuilder().start("s").throw("notify", message("shipped", "=order_id"), inputs=io(id="order_id"))
    b.end("e", message("done")).chain("s", "notify", "e")
    d = Driver(b.graph())
    d.start(order_id=9)
    published = d.commands_of(cmd.PublishMessage)
    assert [(p.name, p.correlation_key, p.variables) for p in published] == [
        ("shipped", 9, {"id": 9}), ("done", None, {})]


def test_send_task_without_connector_publishes():
    b = GraphBuilder().start("s").node("send", "sendTask", props={"message": "hello"}).end("e")
    d = Driver(b.chain("s", "send", "e").graph())
    d.start()
    assert d.commands_of(cmd.PublishMessage)[0].name == "hello" and d.status == "completed"


def test_terminate_end_at_process_level_cancels_everything():
    b = GraphBuilder().start("s").gateway("fork", "parallel").user("slow").end("e1")
    b.end("kill", TERMINATE).chain("s", "fork").chain("fork", "slow", "e1").chain("fork", "kill")
    d = Driver(b.graph())
    result = d.start()
    assert d.status == "terminated" and not d.state.tokens and not d.state.waits
    assert any(isinstance(c, cmd.CancelHumanTask) for c in result.commands)
    assert d.state.ended_by == "kill"


def test_terminate_end_in_sub_process_ends_only_the_sub_process():
    b = GraphBuilder().start("s").sub("sp").script("after", after="1").end("e").chain("s", "sp", "after", "e")
    b.start("is", scope="sp").gateway("f", "parallel", scope="sp").user("slow", scope="sp")
    b.end("ie", scope="sp").end("kill", TERMINATE, scope="sp")
    b.chain("is", "f").chain("f", "slow", "ie").chain("f", "kill")
    d = Driver(b.graph())
    d.start()
    assert d.status == "completed" and d.variables == {"after": 1}


def test_error_end_caught_by_boundary_on_enclosing_sub_process():
    b = GraphBuilder().start("s").sub("sp").end("ok").end("handled").script("fix", fixed="1")
    b.chain("s", "sp", "ok")
    b.boundary("catch", "sp", error("E42")).chain("catch", "fix", "handled")
    b.start("is", scope="sp").gateway("f", "parallel", scope="sp").user("other", scope="sp")
    b.end("boom", error("E42"), scope="sp").end("ie", scope="sp")
    b.chain("is", "f").chain("f", "other", "ie").chain("f", "boom")
    d = Driver(b.graph())
    result = d.start()
    assert d.status == "completed" and d.variables == {"fixed": 1} and d.passed("handled")
    assert any(isinstance(c, cmd.CancelHumanTask) for c in result.commands)
    thrown = [h for h in d.history if h.type == "error.thrown"]
    assert thrown[0].data["caught_by"] == "catch"


def test_error_code_match_prefers_exact_code_over_catch_all():
    b = GraphBuilder().start("s").sub("sp").end("ok").end("e_any").end("e_code").chain("s", "sp", "ok")
    b.boundary("any", "sp", error(None)).boundary("code", "sp", error("E1"))
    b.chain("any", "e_any").chain("code", "e_code")
    b.start("is", scope="sp").end("boom", error("E1"), scope="sp").chain("is", "boom")
    d = Driver(b.graph())
    d.start()
    assert d.passed("e_code") and not d.passed("e_any")


def test_uncaught_error_end_fails_the_instance():
    b = GraphBuilder().start("s").sub("sp").end("ok").chain("s", "sp", "ok")
    b.boundary("other", "sp", error("OTHER")).end("e2").chain("other", "e2")
    b.start("is", scope="sp").end("boom", error("E9"), scope="sp").chain("is", "boom")
    d = Driver(b.graph())
    result = d.start()
    assert d.status == "failed"
    failed = [c for c in result.commands if isinstance(c, cmd.InstanceStatusChanged) and c.new == "failed"]
    assert failed[0].error_code == "E9" and failed[0].node == "boom"


def test_message_start_event_and_start_triggers():
    b = GraphBuilder().start("plain").start("by_msg", message("order")).start("tick", timer("cycle", "R3/PT1H"))
    b.end("e").chain("plain", "e").chain("by_msg", "e").chain("tick", "e")
    graph = b.graph()
    triggers = {t.node: t for t in start_triggers(graph, EPOCH)}
    assert triggers["by_msg"].name == "order"
    assert triggers["tick"].due.at == EPOCH + dt.timedelta(hours=1) and triggers["tick"].due.repeats == 2
    d = Driver(graph)
    d.start("by_msg", order_id=1)
    assert d.status == "completed" and d.passed("by_msg") and not d.passed("plain")
