"""run(): straight-through execution, scripts, variables scopes, human tasks, stale events."""
import datetime as dt

import pytest

from runtime.engine import Deadlock, EngineError, InstanceState, StateFormatError, StepLimitExceeded
from runtime.engine import commands as cmd
from runtime.engine import events as ev
from runtime.engine.testing.builder import GraphBuilder, io
from runtime.engine.testing.driver import EPOCH, Driver


def test_straight_through_script_tasks_complete_in_one_step():
    b = GraphBuilder().start("s").end("e")
    names = [f"t{i}" for i in range(10)]
    for i, name in enumerate(names):
        b.script(name, x=f"x + {i}")
    b.chain("s", *names, "e")
    d = Driver(b.graph())
    result = d.start(x=0)
    assert d.status == "completed"
    assert d.variables["x"] == sum(range(10))
    assert not d.state.tokens and not d.state.waits
    assert [c.new for c in result.commands if isinstance(c, cmd.InstanceStatusChanged)] == ["running", "completed"]
    assert d.completed() == names


def test_script_lines_run_in_order_and_see_earlier_results():
    b = GraphBuilder().start("s").script("calc", [("a", "2"), ("b", "a * 10"), ("a", "b + a")]).end("e")
    d = Driver(b.chain("s", "calc", "e").graph())
    d.start()
    assert d.variables == {"a": 22, "b": 20}


def test_inputs_are_local_and_outputs_write_process_variables():
    b = GraphBuilder().start("s").end("e")
    b.script("calc", [("net", "gross - discount")], inputs=io(discount="gross * 0.1"),
             outputs=io(total="net"))
    d = Driver(b.chain("s", "calc", "e").graph())
    d.start(gross=100)
    assert d.variables == {"gross": 100, "total": 90.0}


def test_user_task_command_carries_evaluated_properties():
    b = GraphBuilder().start("s").end("e")
    b.user("review", name="Review order", assignee="=initiator", candidate_groups="sales, finance",
           due_date="P2D", priority="=prio * 2",
           form=[{"key": "ok", "label": "OK", "type": "boolean", "required": True, "choices": None,
                  "default": "=prio > 1", "help": None}],
           inputs=io(amount="order['total']"))
    d = Driver(b.chain("s", "review", "e").graph())
    d.start(initiator="alice", prio=3, order={"total": 5})
    (task,) = d.commands_of(cmd.CreateHumanTask)
    assert task.name == "Review order" and task.assignee == "alice"
    assert task.candidate_groups == ["sales", "finance"] and task.candidate_users == []
    assert task.due_date == EPOCH + dt.timedelta(days=2) and task.priority == 6
    assert task.form[0]["default"] is True and task.data == {"amount": 5}
    assert task.wait_id in d.state.waits
    d.complete("review", ok=True)
    assert d.status == "completed" and d.variables["ok"] is True


def test_lane_is_candidate_group_when_no_assignment():
    b = GraphBuilder().start("s").user("u", lane="clerks").end("e")
    d = Driver(b.chain("s", "u", "e").graph())
    d.start()
    assert d.commands_of(cmd.CreateHumanTask)[0].candidate_groups == ["clerks"]


def test_completing_a_task_twice_is_ignored():
    b = GraphBuilder().start("s").user("u").end("e")
    d = Driver(b.chain("s", "u", "e").graph())
    d.start()
    wait_id = d.wait("u").id
    d.step(ev.TaskCompleted(wait_id, {"n": 1}))
    again = d.step(ev.TaskCompleted(wait_id, {"n": 2}))
    assert again.ignored and not again.commands
    assert [h.type for h in again.history] == ["event.ignored"]
    assert d.variables == {"n": 1}


def test_event_of_the_wrong_kind_for_a_wait_is_ignored():
    b = GraphBuilder().start("s").user("u").end("e")
    d = Driver(b.chain("s", "u", "e").graph())
    d.start()
    result = d.step(ev.TimerFired(d.wait("u").id))
    assert result.ignored and d.token_nodes() == ["u"]


def test_starting_twice_is_ignored_and_unstarted_instance_ignores_events():
    b = GraphBuilder().start("s").user("u").end("e")
    d = Driver(b.chain("s", "u", "e").graph())
    assert d.step(ev.TimerFired("nope")).ignored
    d.start()
    assert d.start().ignored


def test_cancel_cancels_every_wait():
    b = GraphBuilder().start("s").gateway("fork", "parallel").user("a").user("b")
    b.gateway("join", "parallel").end("e")
    b.chain("s", "fork", "a", "join", "e").chain("fork", "b", "join")
    d = Driver(b.graph())
    d.start()
    result = d.step(ev.Cancel("operator"))
    assert d.status == "cancelled" and not d.state.tokens and not d.state.waits
    assert sorted(c.node for c in result.commands if isinstance(c, cmd.CancelHumanTask)) == ["a", "b"]
    assert d.step(ev.TaskCompleted("t1")).ignored


def test_loop_without_wait_hits_the_step_limit():
    b = GraphBuilder().start("s").gateway("m", "exclusive").script("inc", i="i + 1")
    b.chain("s", "m", "inc", "m")
    d = Driver(b.graph(), max_steps=500)
    with pytest.raises(StepLimitExceeded) as info:
        d.start(i=0)
    assert info.value.node in {"m", "inc"}


def test_expression_error_names_the_node():
    b = GraphBuilder().start("s").script("bad", x="missing + 1").end("e")
    d = Driver(b.chain("s", "bad", "e").graph())
    with pytest.raises(EngineError) as info:
        d.start()
    assert info.value.node == "bad" and "missing" in info.value.message


def test_parallel_join_with_a_missing_branch_is_reported_as_deadlock():
    b = GraphBuilder().start("s").gateway("x", "exclusive").script("a", v="1")
    b.gateway("join", "parallel").end("e")
    b.chain("s", "x").flow("x", "a").chain("a", "join", "e").flow("x", "join", "False")
    d = Driver(b.graph())
    with pytest.raises(Deadlock) as info:
        d.start()
    assert info.value.node == "join"


def test_state_round_trips_and_rejects_unknown_format():
    b = GraphBuilder().start("s").user("u").end("e")
    d = Driver(b.chain("s", "u", "e").graph())
    d.start(a=[1, 2])
    raw = d.state.to_dict()
    assert InstanceState.from_dict(raw).to_dict() == raw
    assert raw["format"] == 1
    with pytest.raises(StateFormatError):
        InstanceState.from_dict({**raw, "format": 99})


def test_commands_serialise_to_json():
    import json
    b = GraphBuilder().start("s").user("u", due_date="PT1H").end("e")
    d = Driver(b.chain("s", "u", "e").graph())
    d.start()
    payload = json.dumps([c.to_dict() for c in d.commands])
    assert '"kind": "create_human_task"' in payload and "2024-01-01T10:00:00+00:00" in payload
