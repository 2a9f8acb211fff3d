"""Breadth-first exploration of an instance's state space, driving the engine core.

A state is an ``InstanceState`` of the skeleton graph (``abstraction.skeleton``) that may
hold ready tokens. Its successors are, for every possible next thing to happen:

- a ready token executes its node (``stepwise.advance_token``): tokens move one node at a
  time and in any order, the interleaving semantics of a workflow net;
- an open wait receives its event (``stepwise.apply_event``): a human task is completed,
  a service call succeeds or fails with an error code some boundary event catches, a
  child instance completes or fails likewise, a timer fires, a message arrives, a signal
  is broadcast. Waits of boundary events are among them, so a boundary event may or may
  not fire while its activity waits; a non-interrupting message/signal boundary fires at
  most once per activation (``FIRED`` marks its wait), like a timer cycle (``MAX_CYCLE``);

and, for each of these, every answer sequence to the conditions the step evaluates
(``abstraction.Chooser``). A step the engine refuses because no flow can be taken (all
conditions false and no default) is not a behaviour of the model and has no successor.

Exploration stops at ``max_states`` distinct canonical states or after ``time_budget``
seconds; ``StateSpace.complete`` then says whether every reachable state was seen.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from runtime.engine import events as ev
from runtime.engine.errors import EngineError
from runtime.engine.graph import Graph
from runtime.engine.state import JOINING, READY, InstanceState
from runtime.engine.stepwise import advance_token, apply_event

from .abstraction import Chooser
from .canonical import clone, normalise, state_key

NOW = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)
MAX_TOKENS = 200       # more at once: the net is not bounded (tokens multiply in a loop)
MAX_LOCAL_STEPS = 20_000  # per action: the same, through local steps only
FIRED = "sound_fired"
ANY_ERROR = "SOUNDNESS_ANY_ERROR"
_NO_FLOW = "no outgoing sequence flow"

Action = Callable[[InstanceState, Chooser], Any]


@dataclass
class StateSpace:
    graph: Graph
    states: list[InstanceState] = field(default_factory=list)
    successors: list[list[int]] = field(default_factory=list)
    parents: list[tuple[int, str] | None] = field(default_factory=list)
    initial: dict[int, str] = field(default_factory=dict)  # state index -> start event
    complete: bool = True
    bound: str | None = None
    engine_errors: dict[tuple[str | None, str], int] = field(default_factory=dict)
    reached: set[str] = field(default_factory=set)
    meetings: dict[str, tuple[int, str]] = field(default_factory=dict)
    elapsed: float = 0.0

    def trace(self, index: int, limit: int = 12) -> list[str]:
        """The actions leading from an initial state to state ``index`` (the last ``limit``)."""
        steps: list[str] = []
        while self.parents[index] is not None:
            index, label = self.parents[index]
            steps.append(label)
        steps.append(f"start at {self.initial.get(index, '?')}")
        steps.reverse()
        return steps if len(steps) <= limit else ["..."] + steps[-limit:]


class Explorer:
    def __init__(self, graph: Graph, *, max_states: int, time_budget: float, reduce: bool = True):
        self.graph = graph
        self.local = frozenset(n.id for n in graph.nodes.values() if _is_local(n)) if reduce else frozenset()
        self.deciding = frozenset(n.id for n in graph.nodes.values() if _may_decide(graph, n))
        self.max_states = max_states
        self.deadline = time.monotonic() + time_budget
        self.space = StateSpace(graph)
        self.keys: dict[tuple, int] = {}
        self.joins = frozenset(
            n.id for n in graph.nodes.values()
            if n.type in ("parallelGateway", "inclusiveGateway") and len(n.incoming) > 1)
        counter = itertools.count(1)
        self.new_id = lambda: f"s{next(counter)}"

    # -- the search ----------------------------------------------------------------------

    def run(self) -> StateSpace:
        started = time.monotonic()
        space = self.space
        queue: deque[int] = deque()
        for start in self.graph.start_events(None):
            action = self._event(ev.Start({}, start.id))
            for state in self._settled(InstanceState(), action, None):
                index, new = self._add(state, None, f"start at {start.id}")
                if index is not None:
                    space.initial.setdefault(index, start.id)
                if new:
                    queue.append(index)
        while queue:
            if time.monotonic() > self.deadline:
                space.complete, space.bound = False, "time_budget"
                break
            index = queue.popleft()
            state = space.states[index]
            for label, action in self._actions(state):
                for successor in self._settled(state, action, (index, label)):
                    target, new = self._add(successor, index, label)
                    if target is None:
                        break
                    space.successors[index].append(target)
                    if new:
                        queue.append(target)
                if not space.complete:
                    break
            if not space.complete:
                break
        space.elapsed = time.monotonic() - started
        return space

    def _add(self, state: InstanceState, parent: int | None, label: str) -> tuple[int | None, bool]:
        space = self.space
        if len(state.tokens) > MAX_TOKENS:
            space.complete, space.bound = False, "max_tokens"
            return None, False
        normalise(state)
        key = state_key(state, self.joins)
        found = self.keys.get(key)
        if found is not None:
            return found, False
        if len(space.states) >= self.max_states:
            space.complete, space.bound = False, "max_states"
            return None, False
        index = len(space.states)
        self.keys[key] = index
        space.reached.update(t.node for t in state.tokens.values())
        space.states.append(state)
        space.successors.append([])
        space.parents.append(None if parent is None else (parent, label))
        return index, True

    def _settled(self, state: InstanceState, action: Action,
                 origin: tuple[int, str] | None) -> Iterator[InstanceState]:
        """The outcomes of ``action``, each with its local steps done (see ``_is_local``).
        The states in between are reachable too: tokens meeting there are recorded."""
        pending = list(self._outcomes(state, action))
        steps = 0
        while pending:
            current = pending.pop()
            steps += 1
            if steps > MAX_LOCAL_STEPS or len(current.tokens) > MAX_TOKENS:
                self.space.complete, self.space.bound = False, "max_tokens"
                return
            token = next((t for t in current.tokens.values() if t.status == READY
                          and t.node in self.local and _plain(t)), None)
            if token is None:
                yield current
                continue
            self.space.reached.add(token.node)
            if origin is not None and token.node not in self.space.meetings:
                if any(_same_place(token, other, token.node in self.joins)
                       for other in current.tokens.values()):
                    self.space.meetings[token.node] = origin
            if token.node in self.deciding or any(
                    t.status == JOINING and t.node in self.deciding for t in current.tokens.values()):
                pending.extend(self._outcomes(current, self._advance(token.id)))
            else:  # no condition can be evaluated in this step: one outcome, run in place
                pending.extend(self._outcomes(current, self._advance(token.id), in_place=True))

    def _outcomes(self, state: InstanceState, action: Action, *,
                  in_place: bool = False) -> Iterator[InstanceState]:
        """The states ``action`` can lead to, one per answer sequence to its conditions
        (``in_place``: the caller owns ``state`` and knows the step decides nothing)."""
        script: list[bool] | None = []
        while script is not None:
            chooser = Chooser(script)
            successor = state if in_place else clone(state)
            try:
                result = action(successor, chooser)
            except EngineError as exc:
                if _NO_FLOW not in exc.message:
                    key = (exc.node, exc.message)
                    self.space.engine_errors[key] = self.space.engine_errors.get(key, 0) + 1
            else:
                if result is None or result.ignored is None:
                    yield successor
            script = chooser.next_script()

    # -- what can happen next ------------------------------------------------------------

    def _actions(self, state: InstanceState) -> list[tuple[str, Action]]:
        if state.is_ended:
            return []
        actions: list[tuple[str, Action]] = []
        seen: set[tuple] = set()
        for token in state.tokens.values():
            if token.status != READY:
                continue
            flow = token.flow if token.node in self.joins else None
            twin = (token.scope, token.node, flow, tuple(sorted(token.data)))
            if twin in seen:
                continue  # an interchangeable token: same successors up to ids
            seen.add(twin)
            actions.append((f"token moves on at {token.node}", self._advance(token.id)))
        signals: set[str] = set()
        for wait in list(state.waits.values()):
            if wait.info.get(FIRED):
                continue
            kind = wait.kind
            if kind == "task":
                actions.append((f"task {wait.node} completed",
                                self._event(ev.TaskCompleted(wait.id, {}))))
            elif kind == "call":
                actions.append((f"call {wait.node} succeeded",
                                self._event(ev.ServiceCallSucceeded(wait.id, None))))
                for code in self._caught_codes(state, wait.token):
                    actions.append((f"call {wait.node} failed with {code}", self._event(
                        ev.ServiceCallFailed(wait.id, code, "soundness", False))))
            elif kind == "child":
                actions.append((f"child of {wait.node} completed",
                                self._event(ev.ChildCompleted(wait.id, {}))))
                for code in self._caught_codes(state, wait.token):
                    actions.append((f"child of {wait.node} failed with {code}", self._event(
                        ev.ChildFailed(wait.id, code, "soundness"))))
            elif kind == "timer":
                actions.append((f"timer {wait.node} fired", self._event(ev.TimerFired(wait.id))))
            elif kind == "message":
                wait_id = wait.id
                actions.append((f"message for {wait.node} arrived", self._event(
                    ev.MessageReceived(wait_id, variables={}), mark=lambda s, w=wait_id: [w])))
            elif kind == "signal":
                name = wait.info.get("name")
                if name not in signals:
                    signals.add(name)
                    actions.append((f"signal {name!r} broadcast", self._event(
                        ev.SignalReceived(name, {}), mark=_signal_waits(name))))
        return actions

    def _advance(self, token_id: str) -> Action:
        def action(state: InstanceState, chooser: Chooser):
            return advance_token(self.graph, state, token_id, now=NOW, new_id=self.new_id,
                                 evaluate=chooser)
        return action

    def _event(self, event: Any, *, mark: Callable[[InstanceState], list[str]] | None = None) -> Action:
        """Apply ``event``; ``mark`` lists waits that, still open afterwards, count as fired."""
        def action(state: InstanceState, chooser: Chooser):
            marked = mark(state) if mark else ()
            result = apply_event(self.graph, state, event, now=NOW, new_id=self.new_id,
                                 evaluate=chooser)
            for wait_id in marked:
                if wait_id in state.waits:
                    state.waits[wait_id].info[FIRED] = True
            return result
        return action

    def _caught_codes(self, state: InstanceState, token_id: str) -> list[str]:
        """Error codes that some error boundary around the waiting token would catch."""
        codes: set[str] = set()
        token = state.tokens.get(token_id)
        while token is not None:
            if not token.data.get("mi_instance"):
                for boundary_id in self.graph.boundaries.get(token.node, ()):
                    boundary = self.graph.nodes[boundary_id]
                    if boundary.event_kind == "error":
                        codes.add(boundary.event.get("error_code") or ANY_ERROR)
            token = state.tokens.get(token.scope) if token.scope is not None else None
        return sorted(codes)


def explore(graph: Graph, *, max_states: int, time_budget: float, reduce: bool = True) -> StateSpace:
    return Explorer(graph, max_states=max_states, time_budget=time_budget, reduce=reduce).run()


_LOCAL_TYPES = frozenset({
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "startEvent",
    "boundaryEvent", "intermediateCatchEvent", "task", "userTask", "serviceTask", "scriptTask",
    "sendTask", "receiveTask", "manualTask", "subProcess", "callActivity",
})


def _is_local(node) -> bool:
    """Whether executing a ready token here touches nothing but that token (and the tokens
    and waits it creates), so the checker runs it at once instead of interleaving it.

    Local: activities, events and gateways with one incoming flow, and arrivals at
    parallel and inclusive joins (the token parks; the join fires once every flow it
    waits for is filled, whatever the order of arrival). Not local: other nodes with
    several incoming flows (exclusive merges, activities entered from two places: a
    token must be able to linger there so that a second one can meet it), nodes without
    outgoing flows (the token ends and may complete its scope), end events, and throw
    events other than none and message (signals and compensation act on other tokens).
    This is a partial-order reduction: independent steps commute, so running them first
    loses no deadlock, no ended state and no cycle (every cycle keeps a state at its merge
    node); tokens meeting on the way are recorded by ``Explorer._settled``.
    """
    if node.type in ("parallelGateway", "inclusiveGateway") and len(node.incoming) > 1:
        return bool(node.outgoing)
    if len(node.incoming) > 1 or not node.outgoing:
        return False
    if node.type == "intermediateThrowEvent":
        return node.event_kind in ("none", "message")
    return node.type in _LOCAL_TYPES


def _may_decide(graph: Graph, node) -> bool:
    """Whether executing a token at ``node`` may evaluate a condition (outgoing flows,
    a completion condition; an inclusive join evaluates its outgoing flows when it fires)."""
    if node.multi_instance and node.multi_instance.get("completion_condition"):
        return True
    return any(graph.flows[f].condition is not None for f in node.outgoing)


def _same_place(token, other, join: bool) -> bool:
    """Another token of the same scope on the same node (and incoming flow, at a join)."""
    return (other is not token and other.node == token.node and other.scope == token.scope
            and not other.data.get("mi_instance") and (not join or other.flow == token.flow))


def _plain(token) -> bool:
    """Multi-instance instances and compensation handlers report to another token."""
    data = token.data
    return not (data.get("mi_instance") or data.get("compensates"))


def _signal_waits(name: str) -> Callable[[InstanceState], list[str]]:
    def waits(state: InstanceState) -> list[str]:
        return [w.id for w in state.waits.values()
                if w.kind == "signal" and w.info.get("name") == name]
    return waits
