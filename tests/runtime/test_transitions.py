"""The declared state machines: legal moves pass and record history, illegal ones raise."""
import pytest

from runtime import transitions as t


class Recorder(list):
    def add(self, type, **kw):
        self.append((type, kw))


class Row:
    pk = 1

    def __init__(self, state):
        self.state = state


@pytest.mark.parametrize("table,source,target", [
    (t.INSTANCE, "running", "suspended"),
    (t.INSTANCE, "suspended", "running"),
    (t.INSTANCE, "compensating", "compensated"),
    (t.HUMAN_TASK, "open", "claimed"),
    (t.HUMAN_TASK, "claimed", "open"),
    (t.HUMAN_TASK, "claimed", "completed"),
    (t.TIMER_JOB, "scheduled", "fired"),
    (t.SERVICE_CALL, "running", "pending"),
    (t.SERVICE_CALL, "incident", "pending"),
    (t.TOKEN, "waiting", "consumed"),
])
def test_legal_moves_set_the_field_and_record_history(table, source, target):
    row, history = Row(source), Recorder()
    assert t.advance(table, row, target, history=history, node="n1", actor="alice") == source
    assert row.state == target
    assert history == [(f"{table.name}.state", {"node": "n1", "token": "", "from_state": source,
                                                "to_state": target, "data": None, "actor": "alice"})]


@pytest.mark.parametrize("table,source,target", [
    (t.INSTANCE, "completed", "running"),
    (t.INSTANCE, "cancelled", "running"),
    (t.INSTANCE, "suspended", "completed"),
    (t.HUMAN_TASK, "completed", "completed"),
    (t.HUMAN_TASK, "cancelled", "claimed"),
    (t.TIMER_JOB, "fired", "fired"),
    (t.TIMER_JOB, "cancelled", "fired"),
    (t.SERVICE_CALL, "succeeded", "pending"),
    (t.SERVICE_CALL, "pending", "succeeded"),
])
def test_illegal_moves_raise_before_changing_anything(table, source, target):
    row, history = Row(source), Recorder()
    with pytest.raises(t.IllegalTransition, match=f"{source} -> {target}"):
        t.advance(table, row, target, history=history)
    assert row.state == source and history == []


def test_a_new_row_starts_from_creation():
    row, history = Row("open"), Recorder()
    row.pk = None
    t.advance(t.HUMAN_TASK, row, "claimed", history=history)
    assert history[0][1]["from_state"] == ""


def test_terminal_states_are_the_ones_without_exits():
    assert t.INSTANCE.terminal == {"completed", "terminated", "failed", "cancelled", "compensated"}
    assert t.HUMAN_TASK.terminal == {"completed", "cancelled"}
    assert t.SERVICE_CALL.terminal == {"succeeded", "failed", "cancelled"}


def test_status_choices_match_the_tables():
    from runtime.models import HumanTaskState, InstanceStatus, ServiceCallState, TimerState

    assert set(InstanceStatus.values) == t.INSTANCE.states
    assert set(HumanTaskState.values) == t.HUMAN_TASK.states
    assert set(ServiceCallState.values) == t.SERVICE_CALL.states
    assert set(TimerState.values) == t.TIMER_JOB.states
