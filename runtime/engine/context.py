"""One step's working context: token moves, waits, variables, history and commands.

Behaviours (``nodes/``) only talk to the instance through this class, so the rules that
must hold everywhere live in one place: a token that leaves cancels its waits, every move
is recorded, a scope completes when its last inner token is gone, and every wait opened
is matched by a cancelling command when it ends early.
"""
from __future__ import annotations

import datetime as _dt
from collections import ChainMap, deque
from typing import Any, Callable, Mapping

from . import commands as cmd
from .errors import EngineError, StepLimitExceeded
from .expressions import ExpressionError, evaluate, evaluate_value
from .graph import Flow, Graph, Node
from .state import ENDED, JOINING, READY, InstanceState, Token, Wait

_CANCEL_COMMAND = {
    "task": cmd.CancelHumanTask, "call": cmd.CancelServiceCall, "timer": cmd.CancelTimer,
    "child": cmd.CancelChild,
}


class StepContext:
    def __init__(self, graph: Graph, state: InstanceState, *, now: _dt.datetime,
                 new_id: Callable[[], str], max_steps: int):
        self.graph = graph
        self.state = state
        self.now = now
        self.new_id = new_id
        self.max_steps = max_steps
        self.commands: list[cmd.Command] = []
        self.history: list[cmd.HistoryEntry] = []
        self.agenda: deque[str] = deque()
        self.deferred: deque[Callable[[], None]] = deque()
        self.steps = 0

    # -- records -------------------------------------------------------------------------

    def emit(self, command: cmd.Command) -> None:
        self.commands.append(command)

    def record(self, type_: str, node: str | None = None, token: str | None = None,
               from_state: str | None = None, to_state: str | None = None, **data: Any) -> None:
        self.history.append(cmd.HistoryEntry(type_, node, token, from_state, to_state, data))

    @property
    def ended(self) -> bool:
        return self.state.status in ENDED

    # -- tokens --------------------------------------------------------------------------

    def new_token(self, node: str, scope: str | None, *, flow: str | None = None,
                  data: dict | None = None) -> Token:
        token = Token(self.new_id(), node, scope, READY, flow, data if data is not None else {})
        self.state.tokens[token.id] = token
        self.record("token.created", node, token.id, None, READY, scope=scope)
        self.agenda.append(token.id)
        return token

    def move(self, token: Token, flow: Flow) -> None:
        self.record("token.moved", flow.target, token.id, token.status, READY,
                    flow=flow.id, source=flow.source)
        token.node = flow.target
        token.flow = flow.id
        token.status = READY
        token.data = {}
        self.agenda.append(token.id)

    def set_status(self, token: Token, status: str) -> None:
        if token.status != status:
            self.record("token.status", token.node, token.id, token.status, status)
            token.status = status

    def children(self, token_id: str) -> list[Token]:
        return [t for t in self.state.tokens.values() if t.scope == token_id]

    def remove(self, token: Token) -> None:
        """Drop a finished token without any scope bookkeeping (merged, handed over)."""
        self.state.tokens.pop(token.id, None)
        self.record("token.consumed", token.node, token.id, token.status, None)

    def consume(self, token: Token) -> None:
        """A token ends normally; when it was the last of its scope, the scope completes."""
        self.cancel_waits(token)
        self.remove(token)
        self.scope_maybe_done(token.scope, token.node)

    def scope_maybe_done(self, scope: str | None, last_node: str | None) -> None:
        if self.ended:
            return
        if scope is None:
            if not self.state.tokens:
                from .lifecycle import instance_completed
                instance_completed(self, last_node)
            return
        host = self.state.tokens.get(scope)
        if host is None or host.data.get("mi") or any(t.scope == scope for t in self.state.tokens.values()):
            return
        from .nodes import behaviour_for
        behaviour_for(self.graph.nodes[host.node]).scope_done(self, host)

    def cancel(self, token: Token, reason: str = "cancelled") -> None:
        """Interrupt a token, everything inside its scope and everything it waits for."""
        for child in self.children(token.id):
            self.cancel(child, reason)
        self.cancel_waits(token)
        if self.state.tokens.pop(token.id, None) is None:
            return
        node = self.graph.nodes.get(token.node)
        if node is not None and token.status != READY and node.type not in _NOT_ACTIVITIES:
            self.record("activity.cancelled", token.node, token.id, reason=reason)
        self.record("token.cancelled", token.node, token.id, token.status, None, reason=reason)

    # -- waits ---------------------------------------------------------------------------

    def open_wait(self, kind: str, token: Token, node: str, info: dict | None = None) -> Wait:
        wait = Wait(self.new_id(), kind, token.id, node, info or {})
        self.state.waits[wait.id] = wait
        return wait

    def close_wait(self, wait: Wait) -> None:
        self.state.waits.pop(wait.id, None)

    def cancel_wait(self, wait: Wait) -> None:
        if self.state.waits.pop(wait.id, None) is None:
            return
        command = _CANCEL_COMMAND.get(wait.kind)
        if command is not None:
            self.emit(command(wait.id, wait.token, wait.node))
        else:
            self.emit(cmd.Unsubscribe(wait.id, wait.token, wait.node, wait.kind))

    def cancel_waits(self, token: Token, keep: str | None = None) -> None:
        if not self.state.waits:
            return
        for wait in [w for w in self.state.waits.values() if w.token == token.id and w.id != keep]:
            self.cancel_wait(wait)

    # -- variables -----------------------------------------------------------------------

    def _layers(self, token: Token | None, *, writable: bool = False) -> list[dict]:
        """Local scopes from ``token`` outward. A compensation handler's snapshot (the
        variables as its activity completed them) is read-only: writes pass through it."""
        layers = []
        tokens = self.state.tokens
        while token is not None:
            data = token.data
            local = data.get("locals")
            if local is not None:
                layers.append(local)
            if not writable and "snapshot" in data:
                layers.append(data["snapshot"])
            token = tokens.get(token.scope) if token.scope is not None else None
        return layers

    def view(self, token: Token) -> Mapping[str, Any]:
        """The variables visible to a token: its local scopes, innermost first, then the process."""
        layers = self._layers(token)
        if not layers:
            return self.state.variables
        return ChainMap(*layers, self.state.variables)

    def write(self, token: Token | None, name: str, value: Any) -> None:
        """Set a variable in the nearest scope (from ``token``'s own) that defines it."""
        for layer in self._layers(token, writable=True):
            if name in layer:
                layer[name] = value
                return
        self.state.variables[name] = value

    def outer(self, token: Token) -> Token | None:
        """The token whose scope encloses an activity: skips a multi-instance host."""
        host = self.state.tokens.get(token.scope) if token.scope is not None else None
        if host is not None and token.data.get("mi_instance"):
            host = self.state.tokens.get(host.scope) if host.scope is not None else None
        return host

    def eval(self, source: str, token: Token, node: str, view: Mapping | None = None) -> Any:
        try:
            return evaluate(source, self.view(token) if view is None else view)
        except ExpressionError as exc:
            raise EngineError(str(exc), node=node, token=token.id) from None

    def eval_value(self, value: Any, token: Token, node: str, view: Mapping | None = None) -> Any:
        try:
            return evaluate_value(value, self.view(token) if view is None else view)
        except ExpressionError as exc:
            raise EngineError(str(exc), node=node, token=token.id) from None

    # -- flows ---------------------------------------------------------------------------

    def leave(self, token: Token, node: Node | None = None) -> None:
        """Leave an activity or event: conditional flows whose condition holds, flows
        without a condition, the default flow only when nothing else was taken."""
        node = node or self.graph.nodes[token.node]
        outgoing = node.outgoing
        if not outgoing:
            self.consume(token)
            return
        flows = self.graph.flows
        if len(outgoing) == 1 and flows[outgoing[0]].condition is None:
            self.move(token, flows[outgoing[0]])
            return
        taken = []
        default = None
        for fid in outgoing:
            flow = flows[fid]
            if fid == node.default_flow or flow.is_default:
                default = flow
            elif flow.condition is None or self.eval(flow.condition, token, node.id):
                taken.append(flow)
        if not taken and default is not None:
            taken.append(default)
        if not taken:
            raise EngineError("no outgoing sequence flow can be taken", node=node.id, token=token.id)
        self.take(token, taken)

    def take(self, token: Token, flows: list[Flow]) -> None:
        """Move ``token`` along the first flow and fork new tokens for the others; the
        agenda then runs the branches in flow order."""
        scope = token.scope
        self.move(token, flows[0])
        for flow in flows[1:]:
            self.new_token(flow.target, scope, flow=flow.id)

    # -- the loop ------------------------------------------------------------------------

    def drain(self) -> None:
        from .nodes import behaviour_for
        tokens = self.state.tokens
        nodes = self.graph.nodes
        while True:
            while self.agenda or self.deferred:
                if self.ended:
                    self.agenda.clear()
                    self.deferred.clear()
                    return
                if self.deferred:
                    self.deferred.popleft()()
                    continue
                token = tokens.get(self.agenda.popleft())
                if token is None or token.status != READY:
                    continue
                self.steps += 1
                if self.steps > self.max_steps:
                    raise StepLimitExceeded(
                        f"more than {self.max_steps} node executions without reaching a wait state",
                        node=token.node, token=token.id)
                node = nodes[token.node]
                behaviour_for(node).execute(self, token, node)
            if self.ended or not self._fire_waiting_joins():
                return

    def _fire_waiting_joins(self) -> bool:
        """At quiescence, re-check parked inclusive joins: tokens that blocked them may
        have gone elsewhere or ended since they parked."""
        from .nodes.gateways import inclusive_try_fire
        seen = set()
        for token in list(self.state.tokens.values()):
            if token.status != JOINING or (token.node, token.scope) in seen:
                continue
            seen.add((token.node, token.scope))
            node = self.graph.nodes[token.node]
            if node.type == "inclusiveGateway" and inclusive_try_fire(self, node, token.scope):
                return True
        return False

    def set_instance_status(self, new: str, *, node: str | None = None,
                            error_code: str | None = None, message: str = "") -> None:
        old = self.state.status
        if old == new:
            return
        self.state.status = new
        self.emit(cmd.InstanceStatusChanged(old, new, node, error_code, message))
        self.record("instance.status", node, None, old, new,
                    **({"error_code": error_code, "message": message} if error_code or message else {}))


_NOT_ACTIVITIES = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway",
})
ACTIVITY_TYPES = frozenset({
    "task", "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask", "manualTask",
    "subProcess", "callActivity",
})
