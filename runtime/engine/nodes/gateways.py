"""Gateways: exclusive, parallel, inclusive and event-based.

Converging parallel and inclusive gateways park arriving tokens (status ``joining``, the
incoming flow in ``token.flow``) and fire by consuming one token per filled incoming flow;
extra tokens on an already filled flow wait for the next firing.

The inclusive join uses the BPMN 2.0 rule: it fires when at least one incoming flow holds
a token and no other token of the same scope can still reach an empty incoming flow, where
a token that can also reach a filled incoming flow does not count (it belongs to a later
wave). Tokens inside nested scopes are represented by the token on their sub-process.
Reachability sets are computed once per graph (``Graph.join_upstream``). Because any move
anywhere can unblock a waiting join, parked inclusive joins are re-checked whenever the
step reaches quiescence (``StepContext.drain``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import EngineError
from ..graph import Flow, Node
from ..state import JOINING, READY, WAITING, Token, Wait
from ..activity import subscribe_event
from . import register
from .base import Behaviour

if TYPE_CHECKING:
    from ..context import StepContext


def _parked(ctx: "StepContext", node: Node, scope: str | None) -> list[Token]:
    return [t for t in ctx.state.tokens.values()
            if t.node == node.id and t.scope == scope and t.status == JOINING]


def _merge(ctx: "StepContext", node: Node, parked: list[Token]) -> Token:
    """Consume one parked token per filled incoming flow; the first one goes on."""
    chosen: dict[str, Token] = {}
    for token in parked:
        chosen.setdefault(token.flow, token)
    tokens = list(chosen.values())
    for token in tokens[1:]:
        ctx.remove(token)
    survivor = tokens[0]
    survivor.data = {"merged": [t.id for t in tokens[1:]]} if len(tokens) > 1 else {}
    return survivor


def _split(ctx: "StepContext", token: Token, node: Node, *, first_only: bool) -> None:
    """Take the flows whose condition holds (the first one for exclusive), else the default."""
    taken: list[Flow] = []
    default = None
    for fid in node.outgoing:
        flow = ctx.graph.flows[fid]
        if fid == node.default_flow or flow.is_default:
            default = flow
            continue
        if flow.condition is None or ctx.eval(flow.condition, token, node.id):
            taken.append(flow)
            if first_only:
                break
    if not taken and default is not None:
        taken.append(default)
    if not taken:
        raise EngineError("no outgoing sequence flow condition is true and there is no default flow",
                          node=node.id, token=token.id)
    ctx.record("gateway.fired", node.id, token.id, flows=[f.id for f in taken])
    ctx.take(token, taken)


@register("exclusiveGateway")
class ExclusiveGateway(Behaviour):
    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        if len(node.outgoing) == 1 and ctx.graph.flows[node.outgoing[0]].condition is None:
            ctx.move(token, ctx.graph.flows[node.outgoing[0]])
            return
        _split(ctx, token, node, first_only=True)


@register("parallelGateway")
class ParallelGateway(Behaviour):
    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        if len(node.incoming) > 1:
            ctx.set_status(token, JOINING)
            parked = _parked(ctx, node, token.scope)
            if len({t.flow for t in parked}) < len(node.incoming):
                return
            token = _merge(ctx, node, parked)
        flows = [ctx.graph.flows[f] for f in node.outgoing]
        if not flows:
            ctx.consume(token)
            return
        ctx.record("gateway.fired", node.id, token.id, flows=[f.id for f in flows])
        ctx.take(token, flows)


def inclusive_can_fire(ctx: "StepContext", node: Node, scope: str | None,
                       parked: list[Token]) -> bool:
    filled = {t.flow for t in parked}
    if not filled:
        return False
    empty = [f for f in node.incoming if f not in filled]
    if not empty:
        return True
    upstream = ctx.graph.join_upstream(node.id)
    empty_sets = [upstream[f] for f in empty]
    filled_sets = [upstream[f] for f in filled if f in upstream]
    for other in ctx.state.tokens.values():
        if other.scope != scope:
            continue
        if other.node == node.id:
            if other.status == READY:
                return False   # it is about to park here and join this firing
            continue
        where = other.node
        if (any(where in s for s in empty_sets)
                and not any(where in s for s in filled_sets)):
            return False
    return True


def inclusive_try_fire(ctx: "StepContext", node: Node, scope: str | None) -> bool:
    parked = _parked(ctx, node, scope)
    if not inclusive_can_fire(ctx, node, scope, parked):
        return False
    token = _merge(ctx, node, parked)
    _split(ctx, token, node, first_only=False)
    return True


@register("inclusiveGateway")
class InclusiveGateway(Behaviour):
    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        if len(node.incoming) > 1:
            ctx.set_status(token, JOINING)
            inclusive_try_fire(ctx, node, token.scope)
            return
        _split(ctx, token, node, first_only=False)


@register("eventBasedGateway")
class EventBasedGateway(Behaviour):
    """Waits on the events after it; the first to happen wins and cancels the others."""

    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        for fid in node.outgoing:
            target = ctx.graph.nodes[ctx.graph.flows[fid].target]
            if target.type == "receiveTask":
                props = target.props or {}
                subscribe_event(ctx, token, target, {
                    "kind": "message", "message": props.get("message"),
                    "correlation_key": props.get("correlation_key")})
            elif target.type == "intermediateCatchEvent":
                subscribe_event(ctx, token, target)
            else:
                raise EngineError(f"event-based gateway target {target.id} is a {target.type}",
                                  node=node.id, token=token.id)
        ctx.set_status(token, WAITING)

    def trigger(self, ctx: "StepContext", token: Token, node: Node, wait: Wait, event) -> None:
        ctx.close_wait(wait)
        ctx.cancel_waits(token)
        flow = next(ctx.graph.flows[f] for f in node.outgoing
                    if ctx.graph.flows[f].target == wait.node)
        ctx.record("gateway.fired", node.id, token.id, flows=[flow.id])
        ctx.move(token, flow)
        token.data["trigger"] = dict(getattr(event, "variables", None) or {})
