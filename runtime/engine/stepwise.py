"""Soundness hooks: drive the core one token at a time, with expressions answered by the caller.

``run()`` executes until quiescence, ready tokens in agenda order, conditions evaluated on
the instance's data. The soundness checker needs the whole behaviour of the model instead:
every interleaving of tokens and external events, and every outcome of a data-dependent
choice. These two functions give it exactly that while every node still runs through the
behaviours ``run()`` uses (no second semantics of gateways, events or scopes):

- ``apply_event(...)``: what ``run()`` does with an event, but no ready token is executed.
- ``advance_token(...)``: execute one ready token's node, as the agenda would, then deliver
  deferred signals; when no token is ready any more, fire one parked inclusive join (as
  ``run()`` does at quiescence). New ready tokens are left in the state.

A state between these calls may hold tokens with status ``ready``; only these functions
accept such a state (``run()`` never leaves one). ``evaluate(source, node_id)``, when
given, answers every expression the step evaluates (conditions, VALUEs starting with
``=``, multi-instance cardinality and completion condition) instead of the expression
engine, so the caller decides data-dependent choices. Nothing else changes: default-off,
``run()`` does not use this module.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Mapping

from .context import StepContext
from .errors import EngineError
from .expressions import is_expression_value
from .graph import Graph
from .nodes import behaviour_for
from .runner import DEFAULT_MAX_STEPS, StepResult, _apply
from .state import READY, InstanceState, Token

Evaluate = Callable[[str, str], Any]


class _HookedContext(StepContext):
    def __init__(self, *args: Any, evaluate: Evaluate | None, **kw: Any):
        super().__init__(*args, **kw)
        self.evaluate = evaluate

    def eval(self, source: str, token: Token, node: str, view: Mapping | None = None) -> Any:
        if self.evaluate is None:
            return super().eval(source, token, node, view)
        return self.evaluate(source, node)

    def eval_value(self, value: Any, token: Token, node: str, view: Mapping | None = None) -> Any:
        if self.evaluate is None or not is_expression_value(value):
            return super().eval_value(value, token, node, view)
        return self.evaluate(value[1:], node)


def _context(graph: Graph, state: InstanceState, now: _dt.datetime, new_id: Callable[[], str],
             evaluate: Evaluate | None) -> _HookedContext:
    return _HookedContext(graph, state, now=now, new_id=new_id, max_steps=DEFAULT_MAX_STEPS,
                          evaluate=evaluate)


def _settle(ctx: StepContext) -> None:
    """Deliver deferred signals; at quiescence fire one parked inclusive join."""
    while ctx.deferred and not ctx.ended:
        ctx.deferred.popleft()()
    if not ctx.ended and not any(t.status == READY for t in ctx.state.tokens.values()):
        ctx._fire_waiting_joins()
        while ctx.deferred and not ctx.ended:
            ctx.deferred.popleft()()
    ctx.agenda.clear()
    ctx.deferred.clear()


def apply_event(graph: Graph, state: InstanceState, event: Any, *, now: _dt.datetime,
                new_id: Callable[[], str], evaluate: Evaluate | None = None) -> StepResult:
    """Apply ``event`` to ``state`` (mutated in place) without running any ready token."""
    ctx = _context(graph, state, now, new_id, evaluate)
    ignored = _apply(ctx, event)
    if ignored is not None:
        return StepResult(state, ctx.commands, ctx.history, ignored)
    _settle(ctx)
    return StepResult(state, ctx.commands, ctx.history, None)


def advance_token(graph: Graph, state: InstanceState, token_id: str, *, now: _dt.datetime,
                  new_id: Callable[[], str], evaluate: Evaluate | None = None) -> StepResult:
    """Execute the node of the ready token ``token_id`` once (``state`` mutated in place)."""
    token = state.tokens.get(token_id)
    if token is None or token.status != READY:
        raise EngineError(f"token {token_id!r} is not ready", token=token_id)
    ctx = _context(graph, state, now, new_id, evaluate)
    node = graph.nodes[token.node]
    ctx.steps = 1
    behaviour_for(node).execute(ctx, token, node)
    _settle(ctx)
    return StepResult(state, ctx.commands, ctx.history, None)


def ready_tokens(state: InstanceState) -> list[Token]:
    return [t for t in state.tokens.values() if t.status == READY]
