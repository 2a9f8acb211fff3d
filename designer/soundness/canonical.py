"""Canonical states: what the visited set compares, with token ids and data abstracted away.

Two instance states are the same for the checker when they have the same instance status
and the same *tree* of tokens: each token described by its node, its status, the incoming
flow when it is parked at a join (joins count per flow), its behaviour bookkeeping and the
waits it holds, and the tokens of the scope it hosts, recursively. Sibling tokens are
sorted, so the description is a multiset and the ids the engine gave them do not matter
(two instances of the same branch are interchangeable). Left out on purpose:

- variables, local scopes, compensation snapshots, trigger payloads (data is abstracted);
- timer due dates (time is abstracted: any timer may fire at any moment); a cycle's
  remaining occurrences stay, they are bounded by ``abstraction.MAX_CYCLE``;
- multi-instance loop counters other than the host's ``count``/``next``/completed, all
  bounded by ``abstraction.MI_INSTANCES``;
- repetitions in the compensation log: ``normalise`` keeps only the latest completion per
  activity and scope (a loop that completes an activity with a handler twice compensates
  it once in the explored behaviour), which keeps the log and so the state space finite.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from runtime.engine.state import JOINING, InstanceState, Token, Wait

_IGNORED_DATA = frozenset({"locals", "snapshot", "trigger", "merged"})


def clone(state: InstanceState) -> InstanceState:
    """A deep copy, faster than copy.deepcopy for the engine's plain-data state."""
    return InstanceState(
        status=state.status,
        variables={},
        tokens={tid: Token(t.id, t.node, t.scope, t.status, t.flow, _copy(t.data) if t.data else {})
                for tid, t in state.tokens.items()},
        waits={wid: Wait(w.id, w.kind, w.token, w.node, dict(w.info))
               for wid, w in state.waits.items()},
        completed=[_copy(e) for e in state.completed] if state.completed else [],
        ended_by=state.ended_by,
    )


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def normalise(state: InstanceState) -> None:
    """Drop data the abstraction ignores, in place, so equal keys mean equal futures."""
    state.variables.clear()
    if len(state.completed) > 1:
        latest: dict[tuple, dict] = {}
        for entry in state.completed:
            latest.pop((entry["node"], entry["scope"]), None)
            latest[(entry["node"], entry["scope"])] = entry
        if len(latest) != len(state.completed):
            state.completed[:] = list(latest.values())


def state_key(state: InstanceState, joins: frozenset[str] = frozenset()) -> tuple:
    """The canonical key; ``joins`` are the converging gateways, where the flow a token
    arrived by matters."""
    children: dict[str | None, list[Token]] = defaultdict(list)
    for token in state.tokens.values():
        scope = token.scope if token.scope in state.tokens else None
        children[scope].append(token)
    waits: dict[str, list[tuple]] = defaultdict(list)
    for wait in state.waits.values():
        waits[wait.token].append(_wait_key(wait))
    by_id = {e["id"]: e for e in state.completed}

    def describe(token: Token) -> tuple:
        flow = (token.flow or "") if token.status == JOINING or token.node in joins else ""
        return (token.node, token.status, flow,
                _data_key(token, state, by_id), tuple(sorted(waits.get(token.id, ()))),
                tuple(sorted(describe(c) for c in children.get(token.id, ()))))

    top = tuple(sorted(describe(t) for t in children.get(None, ())))
    log = tuple((e["node"], e.get("handler") or "", "inner" in e) for e in state.completed)
    return state.status, top, log


def _wait_key(wait: Wait) -> tuple:
    info = wait.info
    if wait.kind == "timer":
        detail = str(info.get("repeats"))
    elif wait.kind in ("message", "signal"):
        detail = str(info.get("name"))
    else:
        detail = ""
    return wait.kind, wait.node, detail, bool(info.get("sound_fired"))


def _data_key(token: Token, state: InstanceState, by_id: dict) -> tuple:
    data = token.data
    if not data:
        return ()
    parts: list[tuple] = []
    for key in sorted(data):
        if key in _IGNORED_DATA:
            continue
        value = data[key]
        if key == "mi":
            done = (data.get("locals") or {}).get("nrOfCompletedInstances", 0)
            parts.append(("mi", str(value.get("count")), str(value.get("next")), str(done)))
        elif key == "thrower":
            thrower = state.tokens.get(value)
            parts.append(("thrower", thrower.node if thrower else ""))
        elif key == "compensation":
            queue = tuple(by_id[i]["node"] if i in by_id else "" for i in value.get("queue", ()))
            parts.append(("compensation", queue))
        else:
            parts.append((key, repr(value)))
    return tuple(parts)
