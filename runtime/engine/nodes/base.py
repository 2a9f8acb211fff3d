"""Behaviour protocol shared by every node family.

A behaviour is stateless: all instance data lives in the token and the state, so one
instance per BPMN type serves every graph and every step.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..activity import complete_activity, start_activity
from ..errors import EngineError
from ..graph import Node
from ..state import Token, Wait

if TYPE_CHECKING:
    from ..context import StepContext


class Behaviour:
    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        """A token arrived on ``node`` (status ready): move it on or make it wait."""
        raise NotImplementedError

    def trigger(self, ctx: "StepContext", token: Token, node: Node, wait: Wait, event) -> None:
        """One of ``token``'s waits on this node fired (``event`` is the external event)."""
        raise EngineError(f"{node.type} cannot be triggered by {type(event).__name__}",
                          node=node.id, token=token.id)

    def scope_done(self, ctx: "StepContext", host: Token) -> None:
        """The last inner token of the scope ``host`` sits on has ended."""
        raise EngineError(f"{ctx.graph.nodes[host.node].type} does not host a scope",
                          node=host.node, token=host.id)

    def compensation_done(self, ctx: "StepContext", thrower: Token) -> None:
        """The compensation ``thrower`` started has run all its handlers."""
        raise EngineError("this node does not throw compensation", node=thrower.node,
                          token=thrower.id)


class Activity(Behaviour):
    """Entry shared by all activities: multi-instance dispatch, inputs, boundary events.

    A multi-instance activity's first token becomes the host; each instance token then
    re-enters here marked ``mi_instance`` and runs the plain activity body (boundary events
    belong to the host, so instances do not subscribe them).
    """

    def execute(self, ctx: "StepContext", token: Token, node: Node) -> None:
        instance = token.data.get("mi_instance", False)
        if node.multi_instance and not instance:
            from .multi_instance import start_host
            start_host(ctx, token, node)
            return
        start_activity(ctx, token, node, boundaries=not instance)
        self.perform(ctx, token, node)

    def perform(self, ctx: "StepContext", token: Token, node: Node) -> None:
        complete_activity(ctx, token)
