"""Events: start, end, intermediate catch and throw, boundary.

Catch events open a wait (timer, message, signal) and move on when it fires; a catch event
reached through an event-based gateway arrives already triggered (``data["trigger"]``).
Throw events publish (message), broadcast (signal) or compensate; end events also
terminate the scope or raise a BPMN error.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import commands as cmd
from .. import compensation
from ..activity import apply_results, open_timer, subscribe_event, wait_here, write_outputs
from ..dispatch import deliver_signal
from ..errors import EngineError
from ..graph import Node
from ..lifecycle import instance_terminated, throw_error, trigger_boundary
from ..state import Token, Wait
from ..timers import next_occurrence, parse_datetime
from . import register
from .base import Behaviour

if TYPE_CHECKING:
    from ..context import StepContext


def _payload(ctx: "StepContext", token: Token, node: Node) -> dict:
    view = ctx.view(token)
    return {i["name"]: ctx.eval(i["expr"], token, node.id, view) for i in node.inputs}


def _take_trigger(ctx: "StepContext", token: Token, node: Node, variables: dict) -> None:
    """The event happened: its variables and outputs land in the variables, then leave."""
    apply_results(ctx, token, node, variables)
    write_outputs(ctx, token, node)
    ctx.leave(token, node)


def _throw(ctx: "StepContext", token: Token, node: Node) -> bool:
    """Perform a throw event's effect; True when the token now waits (compensation)."""
    kind = node.event_kind
    if kind == "none":
        return False
    if kind == "message":
        event = node.event
        key = ctx.eval_value(event.get("correlation_key"), token, node.id)
        ctx.emit(cmd.PublishMessage(event["message"], key, _payload(ctx, token, node),
                                    token.id, node.id))
        return False
    if kind == "signal":
        name, variables = node.event["signal"], _payload(ctx, token, node)
        ctx.emit(cmd.ThrowSignal(name, variables, token.id, node.id))
        # Delivered after this node finishes, so the thrower has moved on before any
        # boundary it triggers (possibly on its own enclosing scope) runs.
        ctx.deferred.append(lambda: deliver_signal(ctx, name, variables))
        return False
    if kind == "compensate":
        return compensation.start(ctx, token, scope=token.scope,
                                  activity=node.event.get("activity"))
    raise EngineError(f"{kind} throw events are not supported", node=node.id, token=token.id)


@register("startEvent")
class StartEvent(Behaviour):
    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        _take_trigger(ctx, token, node, token.data.pop("trigger", None) or {})


@register("intermediateThrowEvent")
class IntermediateThrowEvent(Behaviour):
    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        if not _throw(ctx, token, node):
            ctx.leave(token, node)

    def compensation_done(self, ctx: "StepContext", thrower: Token) -> None:
        thrower.data = {}
        ctx.leave(thrower)


@register("endEvent")
class EndEvent(Behaviour):
    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        kind = node.event_kind
        if kind == "terminate":
            if token.scope is None:
                instance_terminated(ctx, node.id)
                return
            for other in [t for t in ctx.state.tokens.values()
                          if t.scope == token.scope and t.id != token.id]:
                ctx.cancel(other, f"terminated by {node.id}")
            ctx.consume(token)
        elif kind == "error":
            throw_error(ctx, token, node.event.get("error_code"), f"error end event {node.id}")
        elif not _throw(ctx, token, node):
            ctx.consume(token)

    def compensation_done(self, ctx: "StepContext", thrower: Token) -> None:
        ctx.consume(thrower)


@register("intermediateCatchEvent")
class IntermediateCatchEvent(Behaviour):
    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        if "trigger" in token.data:
            _take_trigger(ctx, token, node, token.data.pop("trigger"))
            return
        subscribe_event(ctx, token, node)
        wait_here(ctx, token)

    def trigger(self, ctx: "StepContext", token: Token, node: Node, wait: Wait, event) -> None:
        ctx.close_wait(wait)
        _take_trigger(ctx, token, node, dict(getattr(event, "variables", None) or {}))


@register("boundaryEvent")
class BoundaryEvent(Behaviour):
    """Runs the token a boundary trigger started; ``trigger`` decides whether the activity
    is interrupted. Non-interrupting message/signal boundaries stay subscribed while the
    activity runs; a non-interrupting timer cycle schedules its next occurrence."""

    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        _take_trigger(ctx, token, node, token.data.pop("trigger", None) or {})

    def trigger(self, ctx: "StepContext", token: Token, node: Node, wait: Wait, event) -> None:
        interrupting = node.cancel_activity
        if wait.kind == "timer" or interrupting:
            ctx.close_wait(wait)
        if wait.kind == "timer" and not interrupting and wait.info.get("interval"):
            due = next_occurrence(parse_datetime(wait.info["due_at"]), wait.info["interval"],
                                  wait.info.get("repeats"))
            if due is not None:
                open_timer(ctx, token, node.id, node.event["timer"], due.at, due.repeats,
                           due.interval)
        trigger_boundary(ctx, token, node, dict(getattr(event, "variables", None) or {}),
                         interrupting=interrupting)
