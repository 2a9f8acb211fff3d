"""Instance-wide transitions and BPMN error propagation.

Errors travel outward through scopes: the activity where a business error happened (a
service task, a call activity) is checked first, then each enclosing sub-process or
multi-instance activity; the first error boundary event whose code matches (a boundary
without code catches any coded error) interrupts that activity. Nothing matching at the
process level fails the instance.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .graph import Node
from .state import CANCELLED, COMPENSATED, COMPLETED, FAILED, TERMINATED, Token

if TYPE_CHECKING:
    from .context import StepContext


def instance_completed(ctx: "StepContext", last_node: str | None) -> None:
    node = ctx.graph.nodes.get(last_node) if last_node else None
    compensated = node is not None and node.type == "endEvent" and node.event_kind == "compensate"
    ctx.state.ended_by = last_node
    ctx.set_instance_status(COMPENSATED if compensated else COMPLETED, node=last_node)


def _cancel_all(ctx: "StepContext", reason: str) -> None:
    for token in [t for t in ctx.state.tokens.values() if t.scope is None]:
        ctx.cancel(token, reason)
    for token in list(ctx.state.tokens.values()):
        ctx.cancel(token, reason)


def instance_failed(ctx: "StepContext", *, node: str | None, error_code: str | None,
                    message: str) -> None:
    _cancel_all(ctx, "failed")
    ctx.state.ended_by = node
    ctx.set_instance_status(FAILED, node=node, error_code=error_code, message=message)


def instance_terminated(ctx: "StepContext", node: str) -> None:
    _cancel_all(ctx, "terminated")
    ctx.state.ended_by = node
    ctx.set_instance_status(TERMINATED, node=node)


def instance_cancelled(ctx: "StepContext", reason: str) -> None:
    _cancel_all(ctx, "cancelled")
    ctx.set_instance_status(CANCELLED, message=reason)


def error_boundary(ctx: "StepContext", activity: Node, code: str | None) -> Node | None:
    """The error boundary event of ``activity`` catching ``code``: exact code first."""
    catch_all = None
    for bid in ctx.graph.boundaries.get(activity.id, ()):
        boundary = ctx.graph.nodes[bid]
        if boundary.event_kind != "error":
            continue
        wanted = boundary.event.get("error_code")
        if wanted is None:
            catch_all = catch_all or boundary
        elif code is not None and wanted == code:
            return boundary
    return catch_all if code is not None else None


def find_error_catcher(ctx: "StepContext", token: Token, code: str | None) -> tuple[Token, Node] | None:
    from .context import ACTIVITY_TYPES
    current: Token | None = token
    tokens = ctx.state.tokens
    while current is not None:
        node = ctx.graph.nodes.get(current.node)
        if (node is not None and node.type in ACTIVITY_TYPES
                and not current.data.get("mi_instance")):
            boundary = error_boundary(ctx, node, code)
            if boundary is not None:
                return current, boundary
        current = tokens.get(current.scope) if current.scope is not None else None
    return None


def throw_error(ctx: "StepContext", token: Token, code: str | None, message: str = "") -> bool:
    """Route a BPMN error raised at ``token``; returns whether a boundary caught it.

    Uncaught, the instance fails. ``token`` may be the failing activity's own token or a
    token on an error end event inside a sub-process.
    """
    caught = find_error_catcher(ctx, token, code)
    ctx.record("error.thrown", token.node, token.id, error_code=code, message=message,
               caught_by=caught[1].id if caught else None)
    if caught is None:
        instance_failed(ctx, node=token.node, error_code=code,
                        message=message or f"uncaught error {code!r}")
        return False
    activity_token, boundary = caught
    trigger_boundary(ctx, activity_token, boundary, {}, interrupting=True)
    return True


def trigger_boundary(ctx: "StepContext", activity_token: Token, boundary: Node,
                     variables: dict, *, interrupting: bool) -> Token:
    """Start a token on ``boundary``; an interrupting one first cancels the activity."""
    ctx.record("event.triggered", boundary.id, activity_token.id,
               attached_to=activity_token.node, interrupting=interrupting)
    if interrupting:
        ctx.cancel(activity_token, f"interrupted by {boundary.id}")
    return ctx.new_token(boundary.id, activity_token.scope, data={"trigger": dict(variables)})

