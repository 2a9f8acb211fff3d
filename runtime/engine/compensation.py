"""Compensation (saga): a completion log with variable snapshots, and resumable rollback.

Only activities that completed are compensated, each at most once, in reverse order of
completion. The log keeps, per completed activity having a handler, the variables it saw
when it completed; the handler reads that snapshot (read-only: its writes go to the
enclosing scopes). A completed
sub-process without its own handler stands for the completed activities inside it, which
are compensated in its place. Handlers run one after another as ordinary tokens (a handler
may be a service task that waits), and the throwing token waits in status ``scope`` with
the remaining queue in its data, so a rollback survives any number of steps.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .graph import Node
from .state import COMPENSATED, COMPENSATING, RUNNING, SCOPE, Token

if TYPE_CHECKING:
    from .context import StepContext


def _scope_key(ctx: "StepContext", token: Token) -> str | None:
    if token.data.get("mi_instance"):
        host = ctx.state.tokens.get(token.scope)
        return host.scope if host is not None else None
    return token.scope


def log_completion(ctx: "StepContext", token: Token, node: Node) -> None:
    if node.compensation_handler:
        ctx.state.completed.append({
            "id": ctx.new_id(), "node": node.id, "scope": _scope_key(ctx, token),
            "handler": node.compensation_handler, "variables": dict(ctx.view(token)),
        })
    elif node.type == "subProcess" and any(e["scope"] == token.id for e in ctx.state.completed):
        ctx.state.completed.append({
            "id": ctx.new_id(), "node": node.id, "scope": _scope_key(ctx, token),
            "handler": None, "inner": token.id,
        })


def _entries(ctx: "StepContext", scope: str | None, activity: str | None = None) -> list[str]:
    return [e["id"] for e in reversed(ctx.state.completed)
            if e["scope"] == scope and (activity is None or e["node"] == activity)]


def start(ctx: "StepContext", thrower: Token, *, scope: str | None,
          activity: str | None = None) -> bool:
    """Begin compensating ``scope``; False when there is nothing to compensate."""
    queue = _entries(ctx, scope, activity)
    if not queue:
        return False
    ctx.set_status(thrower, SCOPE)
    thrower.data["compensation"] = {"queue": queue, "scope": scope}
    if scope is None and ctx.state.status == RUNNING:
        ctx.set_instance_status(COMPENSATING, node=thrower.node or None)
    ctx.record("compensation.started", thrower.node or None, thrower.id,
               activity=activity, count=len(queue))
    run_next(ctx, thrower)
    return True


def run_next(ctx: "StepContext", thrower: Token) -> None:
    state = ctx.state
    queue = thrower.data["compensation"]["queue"]
    by_id = {e["id"]: e for e in state.completed}
    while queue:
        entry = by_id.get(queue.pop(0))
        if entry is None:
            continue
        state.completed.remove(entry)
        if entry["handler"] is None:
            queue[0:0] = _entries(ctx, entry["inner"])
            continue
        ctx.new_token(entry["handler"], thrower.scope, data={
            "compensates": entry["node"], "thrower": thrower.id,
            "snapshot": entry["variables"],
        })
        return
    scope = thrower.data.pop("compensation")["scope"]
    ctx.record("compensation.completed", thrower.node or None, thrower.id)
    if thrower.data.get("operator"):
        state.tokens.pop(thrower.id, None)
        ctx.set_instance_status(COMPENSATED)
        return
    if scope is None and state.status == COMPENSATING:
        ctx.set_instance_status(RUNNING, node=thrower.node)
    from .nodes import behaviour_for
    behaviour_for(ctx.graph.nodes[thrower.node]).compensation_done(ctx, thrower)


def handler_done(ctx: "StepContext", handler: Token) -> None:
    thrower = ctx.state.tokens.get(handler.data.get("thrower"))
    ctx.remove(handler)
    if thrower is not None:
        run_next(ctx, thrower)


def compensate_instance(ctx: "StepContext", reason: str) -> None:
    """Operator rollback: cancel all running work, then compensate the process scope."""
    for token in [t for t in ctx.state.tokens.values() if t.scope is None]:
        ctx.cancel(token, "compensating")
    thrower = Token(ctx.new_id(), "", None, SCOPE, None, {"operator": True})
    ctx.state.tokens[thrower.id] = thrower
    ctx.set_instance_status(COMPENSATING, message=reason)
    if not start(ctx, thrower, scope=None):
        ctx.state.tokens.pop(thrower.id, None)
        ctx.set_instance_status(COMPENSATED)
