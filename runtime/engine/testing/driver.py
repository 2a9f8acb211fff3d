"""Drive one instance step by step, as the store would, with save/restore checking.

Every step runs twice: on a state restored from ``json.loads(json.dumps(state.to_dict()))``
and on an in-memory copy that was never serialised; the resulting states, commands and
history must be identical. So every test that uses the driver also proves that persisting
the state between steps cannot change an outcome.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import json
from typing import Any

from .. import events as ev
from ..graph import Graph
from ..runner import StepResult, run
from ..state import InstanceState, Wait

EPOCH = _dt.datetime(2024, 1, 1, 9, 0, tzinfo=_dt.timezone.utc)


class IdFactory:
    """Deterministic ids: ``t1``, ``t2``... shared by tokens, waits and log entries."""

    def __init__(self, start: int = 0):
        self.counter = itertools.count(start + 1)
        self.last = start

    def __call__(self) -> str:
        self.last = next(self.counter)
        return f"t{self.last}"


class Driver:
    def __init__(self, graph: Graph | dict, *, now: _dt.datetime = EPOCH, check_roundtrip: bool = True,
                 max_steps: int | None = None):
        self.graph = graph if isinstance(graph, Graph) else Graph.from_dict(graph)
        self.now = now
        self.check_roundtrip = check_roundtrip
        self.max_steps = max_steps
        self.state = InstanceState()
        self.shadow = InstanceState()
        self.ids = IdFactory()
        self.results: list[StepResult] = []
        self.commands: list = []
        self.history: list = []

    # -- stepping ------------------------------------------------------------------------

    def step(self, event: Any) -> StepResult:
        kw = {"max_steps": self.max_steps} if self.max_steps else {}
        start = self.ids.last
        saved = json.loads(json.dumps(self.state.to_dict()))
        restored = InstanceState.from_dict(saved)
        result = run(self.graph, restored, event, now=self.now, new_id=self.ids, **kw)
        if self.check_roundtrip:
            shadow_ids = IdFactory(start)
            other = run(self.graph, self.shadow, event, now=self.now, new_id=shadow_ids, **kw)
            assert _canon(other.state.to_dict()) == _canon(result.state.to_dict()), \
                "save/restore changed the resulting state"
            assert [c.to_dict() for c in other.commands] == [c.to_dict() for c in result.commands], \
                "save/restore changed the commands"
            assert [h.to_dict() for h in other.history] == [h.to_dict() for h in result.history]
        self.state = result.state
        self.results.append(result)
        self.commands.extend(result.commands)
        self.history.extend(result.history)
        return result

    def start(self, node: str | None = None, **variables: Any) -> StepResult:
        return self.step(ev.Start(dict(variables), node))

    def advance(self, **delta: float) -> None:
        self.now += _dt.timedelta(**delta)

    # -- looking at the state ------------------------------------------------------------

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def variables(self) -> dict:
        return self.state.variables

    def waits(self, kind: str | None = None, node: str | None = None) -> list[Wait]:
        return [w for w in self.state.waits.values()
                if (kind is None or w.kind == kind) and (node is None or w.node == node)]

    def wait(self, node: str, kind: str | None = None) -> Wait:
        found = self.waits(kind, node)
        assert len(found) == 1, f"expected one wait on {node}, found {found}"
        return found[0]

    def token_nodes(self) -> list[str]:
        return sorted(t.node for t in self.state.tokens.values())

    def completed(self) -> list[str]:
        """Nodes whose activity completed, in order (over all steps)."""
        return [h.node for h in self.history if h.type == "activity.completed"]

    def passed(self, node: str) -> bool:
        return any(h.node == node and h.type in ("token.moved", "token.created") for h in self.history)

    def commands_of(self, kind: type) -> list:
        return [c for c in self.commands if isinstance(c, kind)]

    # -- answering waits -----------------------------------------------------------------

    def complete(self, node: str, **variables: Any) -> StepResult:
        return self.step(ev.TaskCompleted(self.wait(node, "task").id, variables))

    def fire(self, node: str) -> StepResult:
        return self.step(ev.TimerFired(self.wait(node, "timer").id))

    def message(self, name: str, correlation_key: Any = None, **variables: Any) -> StepResult:
        return self.step(ev.MessageReceived(None, name, correlation_key, variables))

    def signal(self, name: str, **variables: Any) -> StepResult:
        return self.step(ev.SignalReceived(name, variables))

    def succeed(self, node: str, result: Any = None) -> StepResult:
        return self.step(ev.ServiceCallSucceeded(self.wait(node, "call").id, result))

    def fail(self, node: str, code: str | None = None, message: str = "",
             retryable: bool = False) -> StepResult:
        return self.step(ev.ServiceCallFailed(self.wait(node, "call").id, code, message, retryable))

    def child_done(self, node: str, **variables: Any) -> StepResult:
        return self.step(ev.ChildCompleted(self.wait(node, "child").id, variables))


def _canon(data: dict) -> str:
    return json.dumps(data, sort_keys=True, default=str)


def complete_all_tasks(driver: Driver, limit: int = 1000) -> None:
    """Complete open human tasks, oldest first, until none is open (or ``limit`` steps)."""
    for _ in range(limit):
        tasks = driver.waits("task")
        if not tasks or driver.state.is_ended:
            return
        driver.step(ev.TaskCompleted(tasks[0].id, {}))
    raise AssertionError(f"still open human tasks after {limit} completions")
