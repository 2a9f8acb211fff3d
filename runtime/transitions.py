"""Declared state machines for the runtime's rows.

Each table lists, per state, the states it may move to; ``None`` as a source is creation.
``advance()`` is the only way the store and the services change a status field: it checks
the table, sets the field and appends the history event in the caller's transaction, so an
illegal move raises before anything is written and no change goes unrecorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol


class IllegalTransition(Exception):
    """A status change the table does not allow; a bug or a race the caller lost."""

    def __init__(self, table: str, source: str | None, target: str):
        super().__init__(f"{table}: illegal transition {source or '(new)'} -> {target}")
        self.table = table
        self.source = source
        self.target = target


@dataclass(frozen=True)
class TransitionTable:
    name: str
    edges: Mapping[str | None, frozenset[str]]

    @classmethod
    def declare(cls, name: str, edges: Mapping[str | None, tuple[str, ...]]) -> "TransitionTable":
        return cls(name, {k: frozenset(v) for k, v in edges.items()})

    @property
    def states(self) -> frozenset[str]:
        out = {s for s in self.edges if s is not None}
        for targets in self.edges.values():
            out |= targets
        return frozenset(out)

    @property
    def terminal(self) -> frozenset[str]:
        return frozenset(s for s in self.states if not self.edges.get(s))

    def allows(self, source: str | None, target: str) -> bool:
        return target in self.edges.get(source, frozenset())

    def check(self, source: str | None, target: str) -> None:
        if not self.allows(source, target):
            raise IllegalTransition(self.name, source, target)


class HistorySink(Protocol):
    def add(self, type: str, *, node: str = "", token: str = "", from_state: str = "",
            to_state: str = "", data: dict[str, Any] | None = None, actor: str = "") -> None: ...


INSTANCE = TransitionTable.declare("instance", {
    None: ("running",),
    "running": ("suspended", "completed", "terminated", "failed", "cancelled", "compensating"),
    "suspended": ("running", "cancelled"),
    "compensating": ("running", "compensated", "failed", "cancelled", "terminated", "completed"),
    "completed": (), "terminated": (), "failed": (), "cancelled": (), "compensated": (),
})

# Token statuses at rest (between two persisted steps); a token's end is its row's deletion.
TOKEN = TransitionTable.declare("token", {
    None: ("waiting", "joining", "scope"),
    "waiting": ("waiting", "joining", "scope", "consumed", "cancelled"),
    "joining": ("waiting", "joining", "scope", "consumed", "cancelled"),
    "scope": ("waiting", "joining", "scope", "consumed", "cancelled"),
    "consumed": (), "cancelled": (),
})

HUMAN_TASK = TransitionTable.declare("human_task", {
    None: ("open", "claimed"),
    "open": ("claimed", "completed", "cancelled"),
    "claimed": ("open", "completed", "cancelled"),
    "completed": (), "cancelled": (),
})

# A cycle timer of a start event fires and stays scheduled for its next occurrence.
TIMER_JOB = TransitionTable.declare("timer", {
    None: ("scheduled",),
    "scheduled": ("fired", "cancelled", "scheduled"),
    "fired": (), "cancelled": (),
})

SERVICE_CALL = TransitionTable.declare("service_call", {
    None: ("pending",),
    "pending": ("running", "cancelled"),
    "running": ("succeeded", "failed", "pending", "incident", "cancelled"),
    "incident": ("pending", "cancelled"),
    "succeeded": (), "failed": (), "cancelled": (),
})

INCIDENT = TransitionTable.declare("incident", {
    None: ("open",),
    "open": ("resolved",),
    "resolved": (),
})


def created(table: TransitionTable, target: str, *, history: HistorySink, field: str = "state", node: str = "",
            token: str = "", actor: str = "", data: dict[str, Any] | None = None) -> str:
    """Record the creation edge of a new row that starts in ``target``."""
    table.check(None, target)
    history.add(f"{table.name}.{field}", node=node, token=token, to_state=target, data=data, actor=actor)
    return target


def advance(table: TransitionTable, obj: Any, target: str, *, history: HistorySink, field: str = "state",
            type: str | None = None, node: str = "", token: str = "", actor: str = "",
            data: dict[str, Any] | None = None) -> str:
    """Move ``obj.<field>`` to ``target`` if the table allows it; record it; return the old state."""
    source = getattr(obj, field, None) if getattr(obj, "pk", True) is not None else None
    table.check(source, target)
    setattr(obj, field, target)
    history.add(type or f"{table.name}.{field}", node=node, token=token, from_state=source or "",
                to_state=target, data=data, actor=actor)
    return source
