"""Routing a fired wait to the behaviour that owns it, and in-instance signal delivery.

A wait on a boundary event belongs to the boundary event's behaviour even though the
activity's token owns it; every other wait is handled by the behaviour of the node its
token sits on (the task itself, a catch event, an event-based gateway).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import events as ev
from .state import Wait

if TYPE_CHECKING:
    from .context import StepContext


def trigger_wait(ctx: "StepContext", wait: Wait, event: Any) -> None:
    from .nodes import behaviour_for
    token = ctx.state.tokens.get(wait.token)
    if token is None:
        ctx.close_wait(wait)
        return
    wait_node = ctx.graph.nodes[wait.node]
    if wait_node.type == "boundaryEvent":
        behaviour_for(wait_node).trigger(ctx, token, wait_node, wait, event)
        return
    node = ctx.graph.nodes[token.node]
    ctx.record("event.triggered", wait.node, token.id, wait=wait.id, kind=wait.kind)
    behaviour_for(node).trigger(ctx, token, node, wait, event)


def signal_waits(ctx: "StepContext", name: str) -> list[Wait]:
    return [w for w in ctx.state.waits.values()
            if w.kind == "signal" and w.info.get("name") == name]


def deliver_signal(ctx: "StepContext", name: str, variables: dict) -> int:
    """Trigger every signal wait of ``name`` present now; returns how many there were.

    Waits removed by an earlier trigger (an interrupting boundary cancelling its activity)
    are skipped.
    """
    waits = signal_waits(ctx, name)
    event = ev.SignalReceived(name, dict(variables))
    for wait in waits:
        if ctx.ended:
            break
        if wait.id in ctx.state.waits:
            trigger_wait(ctx, wait, event)
    return len(waits)


def message_wait(ctx: "StepContext", name: str | None, key: Any) -> Wait | None:
    """The oldest message wait of this instance matching name and correlation value."""
    for wait in ctx.state.waits.values():
        if wait.kind != "message" or wait.info.get("name") != name:
            continue
        wanted = wait.info.get("correlation_key")
        if wanted is None or wanted == key:
            return wait
    return None
