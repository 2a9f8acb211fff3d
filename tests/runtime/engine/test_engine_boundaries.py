"""Boundary events on activities: timer, message, signal, error; interrupting or not."""
from runtime.engine import commands as cmd
from runtime.engine import events as ev
from runtime.engine.testing.builder import GraphBuilder, error, message, signal, timer
from runtime.engine.testing.driver import Driver


def _task_with_boundary(event, cancel=True, task="user"):
    b = GraphBuilder().start("s").end("done").end("escalated")
    if task == "user":
        b.user("work")
    else:
        b.service("work", result_variable="res")
    b.script("escalate", escalations="escalations + 1")
    b.boundary("b", "work", event, cancel=cancel).chain("b", "escalate", "escalated")
    return b.chain("s", "work", "done").graph()


def test_interrupting_timer_cancels_the_task():
    d = Driver(_task_with_boundary(timer("duration", "P1D")))
    d.start(escalations=0)
    task = d.commands_of(cmd.CreateHumanTask)[0]
    result = d.fire("b")
    assert [c.wait_id for c in result.commands if isinstance(c, cmd.CancelHumanTask)] == [task.wait_id]
    assert d.status == "completed" and d.passed("escalated") and d.variables["escalations"] == 1
    assert d.step(ev.TaskCompleted(task.wait_id)).ignored


def test_completing_the_task_cancels_its_boundary_timer():
    d = Driver(_task_with_boundary(timer("duration", "P1D")))
    d.start(escalations=0)
    result = d.complete("work")
    assert any(isinstance(c, cmd.CancelTimer) for c in result.commands)
    assert d.passed("done") and not d.passed("escalated") and not d.state.waits


def test_non_interrupting_timer_cycle_keeps_task_and_reschedules():
    d = Driver(_task_with_boundary(timer("cycle", "R2/PT1H"), cancel=False))
    d.start(escalations=0)
    d.advance(hours=1)
    d.fire("b")
    assert d.variables["escalations"] == 1 and d.token_nodes() == ["work"]
    again = d.commands_of(cmd.ScheduleTimer)
    assert len(again) == 2 and (again[1].due_at - again[0].due_at).total_seconds() == 3600
    d.fire("b")
    assert d.variables["escalations"] == 2 and not d.waits("timer")
    d.complete("work")
    assert d.status == "completed"


def test_message_boundary_interrupting_and_non_interrupting():
    d = Driver(_task_with_boundary(message("nudge"), cancel=False))
    d.start(escalations=0)
    d.message("nudge")
    d.message("nudge")
    assert d.variables["escalations"] == 2 and d.token_nodes() == ["work"]
    d = Driver(_task_with_boundary(message("abort")))
    d.start(escalations=0)
    d.message("abort", reason="x")
    assert d.status == "completed" and d.variables["reason"] == "x" and not d.state.waits


def test_signal_boundary_interrupts():
    d = Driver(_task_with_boundary(signal("stop")))
    d.start(escalations=0)
    d.signal("stop")
    assert d.passed("escalated") and d.status == "completed"


def test_service_business_error_follows_error_boundary():
    d = Driver(_task_with_boundary(error("HTTP_404"), task="service"))
    d.start(escalations=0)
    call = d.commands_of(cmd.ScheduleServiceCall)[0]
    assert call.result_variable == "res" and call.retries == 3
    d.fail("work", "HTTP_404", "not found")
    assert d.passed("escalated") and d.status == "completed"


def test_service_success_writes_result_variable():
    d = Driver(_task_with_boundary(error("HTTP_404"), task="service"))
    d.start(escalations=0)
    d.succeed("work", {"ok": True})
    assert d.variables["res"] == {"ok": True} and d.passed("done")


def test_uncaught_retryable_failure_is_an_incident_and_the_call_keeps_waiting():
    d = Driver(_task_with_boundary(error("HTTP_404"), task="service"))
    d.start(escalations=0)
    result = d.fail("work", "HTTP_503", "unavailable", retryable=True)
    (incident,) = [c for c in result.commands if isinstance(c, cmd.Incident)]
    assert incident.node == "work" and incident.error_code == "HTTP_503"
    assert d.status == "running" and d.wait("work", "call")
    d.succeed("work", 1)
    assert d.status == "completed"


def test_uncaught_business_failure_fails_the_instance():
    d = Driver(_task_with_boundary(error("HTTP_404"), task="service"))
    d.start(escalations=0)
    d.fail("work", "HTTP_400", "bad request")
    assert d.status == "failed" and not d.state.tokens and not d.state.waits


def test_interrupting_boundary_on_sub_process_cancels_inner_work():
    b = GraphBuilder().start("s").sub("sp").end("ok").end("late").chain("s", "sp", "ok")
    b.boundary("deadline", "sp", timer("duration", "PT1H")).chain("deadline", "late")
    b.start("is", scope="sp").gateway("f", "parallel", scope="sp").user("a", scope="sp")
    b.catch("tick", timer("duration", "P1D"), scope="sp").service("call", scope="sp")
    b.gateway("j", "parallel", scope="sp").end("ie", scope="sp")
    b.chain("is", "f").chain("f", "a", "j").chain("f", "tick", "j").chain("f", "call", "j").chain("j", "ie")
    d = Driver(b.graph())
    d.start()
    result = d.fire("deadline")
    kinds = sorted(type(c).__name__ for c in result.commands)
    assert kinds == ["CancelHumanTask", "CancelServiceCall", "CancelTimer", "InstanceStatusChanged"]
    assert d.status == "completed" and d.passed("late")


def test_service_error_travels_to_the_enclosing_sub_process_boundary():
    b = GraphBuilder().start("s").sub("sp").end("ok").end("recovered").chain("s", "sp", "ok")
    b.boundary("any", "sp", error(None)).chain("any", "recovered")
    b.start("is", scope="sp").service("call", scope="sp").end("ie", scope="sp").chain("is", "call", "ie")
    d = Driver(b.graph())
    d.start()
    d.fail("call", "HTTP_422", "unprocessable")
    assert d.passed("recovered") and d.status == "completed" and not d.state.waits


def test_non_interrupting_signal_on_sub_process_spawns_a_parallel_path():
    b = GraphBuilder().start("s").sub("sp").end("ok").chain("s", "sp", "ok")
    b.boundary("note", "sp", signal("ping"), cancel=False).script("count", pings="pings + 1").end("pinged")
    b.chain("note", "count", "pinged")
    b.start("is", scope="sp").user("work", scope="sp").end("ie", scope="sp").chain("is", "work", "ie")
    d = Driver(b.graph())
    d.start(pings=0)
    d.signal("ping")
    d.signal("ping")
    assert d.variables["pings"] == 2 and d.token_nodes() == ["sp", "work"]
    result = d.complete("work")
    assert d.status == "completed"
    assert [c.subscription for c in result.commands if isinstance(c, cmd.Unsubscribe)] == ["signal"]
