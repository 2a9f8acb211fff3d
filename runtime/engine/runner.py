"""``run()``: apply one event to an instance and execute until every token waits.

This is the only entry point of the core. It decides what the event means for the state
(which wait it closes, whether it is stale), then drains the agenda of ready tokens, then
checks that what is left can still move.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Callable

from . import commands as cmd
from . import events as ev
from .compensation import compensate_instance
from .context import StepContext
from .dispatch import deliver_signal, message_wait, trigger_wait
from .errors import Deadlock, EngineError
from .graph import Graph
from .lifecycle import instance_cancelled
from .state import NEW, READY, RUNNING, InstanceState

DEFAULT_MAX_STEPS = 10_000

_WAIT_KINDS = {
    ev.TaskCompleted: ("task",), ev.TimerFired: ("timer",), ev.MessageReceived: ("message",),
    ev.ServiceCallSucceeded: ("call",), ev.ServiceCallFailed: ("call",),
    ev.ChildCompleted: ("child",), ev.ChildFailed: ("child",),
}


@dataclass
class StepResult:
    state: InstanceState
    commands: list[cmd.Command] = field(default_factory=list)
    history: list[cmd.HistoryEntry] = field(default_factory=list)
    ignored: str | None = None

    @property
    def status(self) -> str:
        return self.state.status


def run(graph: Graph, state: InstanceState, event: Any, *, now: _dt.datetime,
        new_id: Callable[[], str], max_steps: int = DEFAULT_MAX_STEPS) -> StepResult:
    """Apply ``event`` to ``state`` (mutated in place) and run to the next wait state.

    Raises EngineError when the step cannot complete; the state is then unusable.
    """
    ctx = StepContext(graph, state, now=now, new_id=new_id, max_steps=max_steps)
    ignored = _apply(ctx, event)
    if ignored is not None:
        ctx.record("event.ignored", None, None, event=type(event).__name__, reason=ignored)
        return StepResult(state, ctx.commands, ctx.history, ignored)
    ctx.drain()
    _check_progress(ctx)
    return StepResult(state, ctx.commands, ctx.history, None)


def _apply(ctx: StepContext, event: Any) -> str | None:
    state = ctx.state
    if isinstance(event, ev.Start):
        return _start(ctx, event)
    if state.status == NEW:
        return "the instance has not started"
    if state.is_ended:
        return f"the instance is {state.status}"
    if isinstance(event, ev.Cancel):
        instance_cancelled(ctx, event.reason)
        return None
    if isinstance(event, ev.Compensate):
        compensate_instance(ctx, event.reason)
        return None
    if isinstance(event, ev.SignalReceived):
        if not deliver_signal(ctx, event.name, event.variables):
            return f"nothing waits for signal {event.name!r}"
        return None
    if isinstance(event, ev.MessageReceived) and event.wait_id is None:
        wait = message_wait(ctx, event.name, event.correlation_key)
        if wait is None:
            return f"nothing waits for message {event.name!r} with key {event.correlation_key!r}"
        trigger_wait(ctx, wait, event)
        return None
    kinds = _WAIT_KINDS.get(type(event))
    if kinds is None:
        raise TypeError(f"not an engine event: {event!r}")
    wait = state.waits.get(event.wait_id)
    if wait is None:
        return f"no open wait {event.wait_id!r} (already handled or cancelled)"
    if wait.kind not in kinds:
        return f"wait {event.wait_id!r} is a {wait.kind} wait, not for {type(event).__name__}"
    trigger_wait(ctx, wait, event)
    return None


def _start(ctx: StepContext, event: ev.Start) -> str | None:
    state = ctx.state
    if state.status != NEW:
        return f"the instance already started ({state.status})"
    graph = ctx.graph
    if event.node is None:
        start = graph.none_start(None)
        if start is None:
            raise EngineError("the process has no none start event")
    else:
        start = graph.nodes.get(event.node)
        if start is None or start.type != "startEvent" or start.scope is not None:
            raise EngineError(f"{event.node!r} is not a start event of the process")
    state.variables.update(event.variables)
    ctx.set_instance_status(RUNNING, node=start.id)
    ctx.new_token(start.id, None)
    return None


def _check_progress(ctx: StepContext) -> None:
    """Tokens left but no wait open and nothing ready: nothing can ever move them."""
    state = ctx.state
    if state.is_ended or not state.tokens or state.waits:
        return
    if any(t.status == READY for t in state.tokens.values()):
        return
    stuck = sorted({t.node for t in state.tokens.values()})
    raise Deadlock(f"tokens wait at {', '.join(stuck)} but nothing can move them",
                   node=stuck[0])
