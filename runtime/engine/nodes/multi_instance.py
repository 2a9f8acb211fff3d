"""Multi-instance activities, parallel and sequential.

The token arriving on the activity becomes the host (status ``scope``, counters in
``data["mi"]``, the ``nrOf*`` variables in its locals); each instance is a token on the
same node with ``scope`` = host and ``data["mi_instance"]``, holding ``loopCounter``
(0-based) and the element variable, and runs the plain activity. Outputs are written once
per completed instance; the completion condition is checked after each one and cancels
the instances still running when it holds.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..activity import finish_activity, start_activity
from ..errors import EngineError
from ..graph import Node
from ..state import SCOPE, Token

if TYPE_CHECKING:
    from ..context import StepContext


def start_host(ctx: "StepContext", host: Token, node: Node) -> None:
    spec = node.multi_instance
    items = None
    if spec.get("collection"):
        items = ctx.eval_value(spec["collection"], host, node.id)
        if isinstance(items, dict):
            items = list(items)
        if not isinstance(items, (list, tuple)):
            raise EngineError(f"multi-instance collection is not a list: {items!r}",
                              node=node.id, token=host.id)
        items = list(items)
        count = len(items)
    elif spec.get("cardinality"):
        value = ctx.eval(spec["cardinality"], host, node.id)
        try:
            count = int(value)
        except (TypeError, ValueError):
            raise EngineError(f"loop cardinality {value!r} is not a number",
                              node=node.id, token=host.id) from None
    else:
        raise EngineError("multi-instance needs a loop cardinality or a collection", node=node.id)
    start_activity(ctx, host, node, inputs=False)
    ctx.set_status(host, SCOPE)
    host.data["mi"] = {"count": count, "next": 0, "items": items}
    host.data["locals"] = {"nrOfInstances": count, "nrOfCompletedInstances": 0,
                           "nrOfActiveInstances": 0}
    if count <= 0:
        finish_activity(ctx, host, node)
        return
    for _ in range(1 if spec.get("sequential") else count):
        _spawn(ctx, host, node)


def _spawn(ctx: "StepContext", host: Token, node: Node) -> None:
    mi = host.data["mi"]
    index = mi["next"]
    mi["next"] = index + 1
    local = {"loopCounter": index}
    element = node.multi_instance.get("element_variable")
    if mi["items"] is not None and element:
        local[element] = mi["items"][index]
    host.data["locals"]["nrOfActiveInstances"] += 1
    ctx.new_token(node.id, host.id, data={"mi_instance": True, "locals": local})


def instance_done(ctx: "StepContext", instance: Token, node: Node) -> None:
    host = ctx.state.tokens[instance.scope]
    ctx.remove(instance)
    counters = host.data["locals"]
    counters["nrOfCompletedInstances"] += 1
    counters["nrOfActiveInstances"] -= 1
    mi = host.data["mi"]
    condition = node.multi_instance.get("completion_condition")
    if condition and ctx.eval(condition, host, node.id):
        for other in ctx.children(host.id):
            ctx.cancel(other, "completion condition")
        counters["nrOfActiveInstances"] = 0
        finish_activity(ctx, host, node)
    elif counters["nrOfCompletedInstances"] >= mi["count"]:
        finish_activity(ctx, host, node)
    elif node.multi_instance.get("sequential") and mi["next"] < mi["count"]:
        _spawn(ctx, host, node)
