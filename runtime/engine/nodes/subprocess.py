"""Embedded sub-processes and call activities.

A sub-process token becomes the host of a new scope (status ``scope``): inner tokens carry
its id as their ``scope``, its inputs form the scope's local variables, and it completes
when its last inner token is gone. A call activity waits for a child instance the store
starts; the child's start variables are the inputs, and its outputs are evaluated with the
child's final variables in front of the parent's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import commands as cmd
from .. import events as ev
from ..activity import complete_activity, wait_here
from ..errors import EngineError
from ..graph import Node
from ..state import SCOPE, Token, Wait
from . import register
from .base import Activity
from .tasks import _local_inputs, call_failed

if TYPE_CHECKING:
    from ..context import StepContext


@register("subProcess")
class SubProcess(Activity):
    def perform(self, ctx: "StepContext", token: Token, node: Node) -> None:
        start = ctx.graph.none_start(node.id)
        if start is None:
            raise EngineError("sub-process has no none start event", node=node.id, token=token.id)
        ctx.set_status(token, SCOPE)
        ctx.new_token(start.id, token.id)

    def scope_done(self, ctx: "StepContext", host: Token) -> None:
        complete_activity(ctx, host)


@register("callActivity")
class CallActivity(Activity):
    def perform(self, ctx: "StepContext", token: Token, node: Node) -> None:
        key = (node.props or {}).get("called_element")
        if not key:
            raise EngineError("call activity names no called element", node=node.id, token=token.id)
        wait = ctx.open_wait("child", token, node.id, {"process_key": key})
        ctx.emit(cmd.StartChildInstance(wait.id, token.id, node.id, key,
                                        _local_inputs(token, node)))
        wait_here(ctx, token)

    def trigger(self, ctx: "StepContext", token: Token, node: Node, wait: Wait, event) -> None:
        if isinstance(event, ev.ChildCompleted):
            ctx.close_wait(wait)
            local = token.data.setdefault("locals", {})
            local.update(event.variables)
            complete_activity(ctx, token)
        elif isinstance(event, ev.ChildFailed):
            if event.error_code is None:
                from ..lifecycle import instance_failed
                ctx.close_wait(wait)
                instance_failed(ctx, node=node.id, error_code=None,
                                message=event.message or "child instance failed")
                return
            call_failed(ctx, token, wait, event.error_code, event.message, False)
        else:
            super().trigger(ctx, token, node, wait, event)
