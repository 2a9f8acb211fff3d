"""What every activity shares: entry (inputs, boundary subscriptions), the results rule,
outputs, the compensation log, and leaving.

Inputs are evaluated in order on entry into the token's local scope, so later inputs see
earlier ones. Results (task variables, script lines, call results) go to the nearest scope
defining the name; with outputs declared they stay local and only the outputs are written
outward, from the enclosing scope.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import commands as cmd
from .compensation import log_completion
from .graph import Node
from .state import WAITING, Token
from .timers import compute_due

if TYPE_CHECKING:
    from .context import StepContext


def start_activity(ctx: "StepContext", token: Token, node: Node, *, inputs: bool = True,
                   boundaries: bool = True) -> None:
    ctx.record("activity.started", node.id, token.id)
    if inputs and node.inputs:
        local = token.data.setdefault("locals", {})
        view = ctx.view(token)
        for item in node.inputs:
            local[item["name"]] = ctx.eval(item["expr"], token, node.id, view)
    if boundaries and not token.data.get("compensates"):
        for bid in ctx.graph.boundaries.get(node.id, ()):
            boundary = ctx.graph.nodes[bid]
            if boundary.event_kind in ("timer", "message", "signal"):
                subscribe_event(ctx, token, boundary)
            elif boundary.event_kind not in ("error", "compensate"):
                from .errors import EngineError
                raise EngineError(f"{boundary.event_kind} boundary events are not supported",
                                  node=boundary.id, token=token.id)


def subscribe_event(ctx: "StepContext", token: Token, event_node: Node,
                    event: dict | None = None) -> None:
    """Open the wait for a timer/message/signal event definition, owned by ``token``."""
    event = event if event is not None else (event_node.event or {})
    kind = event.get("kind")
    if kind == "timer":
        due = compute_due(event["timer"], ctx.view(token), ctx.now)
        open_timer(ctx, token, event_node.id, event["timer"], due.at, due.repeats, due.interval)
    elif kind == "message":
        key = ctx.eval_value(event.get("correlation_key"), token, event_node.id)
        wait = ctx.open_wait("message", token, event_node.id,
                             {"name": event["message"], "correlation_key": key})
        ctx.emit(cmd.SubscribeMessage(wait.id, token.id, event_node.id, event["message"], key))
    elif kind == "signal":
        wait = ctx.open_wait("signal", token, event_node.id, {"name": event["signal"]})
        ctx.emit(cmd.SubscribeSignal(wait.id, token.id, event_node.id, event["signal"]))
    else:
        from .errors import EngineError
        raise EngineError(f"cannot wait for a {kind!r} event", node=event_node.id, token=token.id)


def open_timer(ctx: "StepContext", token: Token, node_id: str, timer: dict, due_at: Any,
               repeats: int | None, interval: str | None) -> None:
    info = {"due_at": due_at.isoformat(), "repeats": repeats, "interval": interval}
    wait = ctx.open_wait("timer", token, node_id, info)
    ctx.emit(cmd.ScheduleTimer(wait.id, token.id, node_id, due_at, timer))


def wait_here(ctx: "StepContext", token: Token) -> None:
    ctx.set_status(token, WAITING)


def apply_results(ctx: "StepContext", token: Token, node: Node, results: dict[str, Any]) -> None:
    if not results:
        return
    if node.outputs:
        token.data.setdefault("locals", {}).update(results)
        return
    for name, value in results.items():
        ctx.write(token, name, value)


def write_outputs(ctx: "StepContext", token: Token, node: Node) -> None:
    if not node.outputs:
        return
    view = ctx.view(token)
    values = [(o["name"], ctx.eval(o["expr"], token, node.id, view)) for o in node.outputs]
    outer = ctx.outer(token)
    for name, value in values:
        ctx.write(outer, name, value)


def complete_activity(ctx: "StepContext", token: Token, results: dict[str, Any] | None = None) -> None:
    """The activity's work is done: results, outputs, compensation log, then leave."""
    node = ctx.graph.nodes[token.node]
    if results:
        apply_results(ctx, token, node, results)
    write_outputs(ctx, token, node)
    if not token.data.get("compensates"):
        log_completion(ctx, token, node)
    finish_activity(ctx, token, node)


def finish_activity(ctx: "StepContext", token: Token, node: Node | None = None) -> None:
    node = node or ctx.graph.nodes[token.node]
    ctx.cancel_waits(token)
    ctx.record("activity.completed", node.id, token.id)
    if token.data.get("mi_instance"):
        from .nodes.multi_instance import instance_done
        instance_done(ctx, token, node)
    elif token.data.get("compensates"):
        from .compensation import handler_done
        handler_done(ctx, token)
    else:
        token.data = {}
        ctx.leave(token, node)
