"""The instance snapshot the engine steps over: plain data, JSON round-trippable.

The store persists ``InstanceState.to_dict()`` (e.g. as JSON on the instance row) and may
mirror ``tokens`` and ``waits`` into rows; both are dicts keyed by stable ids so a diff
between the stored and the new snapshot is a cheap key comparison. ``run()`` mutates the
state it is given in place (no copy per node), so keep the stored dict if you need the old one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATE_FORMAT = 1
SUPPORTED_STATE_FORMATS = (1,)

# Instance statuses the core can produce; the store adds suspended and its own checks.
RUNNING = "running"
COMPLETED = "completed"
TERMINATED = "terminated"
FAILED = "failed"
CANCELLED = "cancelled"
COMPENSATING = "compensating"
COMPENSATED = "compensated"
NEW = "new"
ENDED = frozenset({COMPLETED, TERMINATED, FAILED, CANCELLED, COMPENSATED})

# Token statuses: READY only exists inside one run(); at rest every token waits for something.
READY = "ready"
WAITING = "waiting"      # on an external wait (task, call, timer, message, signal, child)
JOINING = "joining"      # parked at a converging gateway until it fires
SCOPE = "scope"          # hosts inner tokens: sub-process, multi-instance, compensation throw


class StateFormatError(ValueError):
    pass


@dataclass(slots=True)
class Token:
    """A token: where it is, which scope token owns it, what it waits for.

    ``scope`` is the id of the token hosting the scope this token runs in (the token sitting
    on the sub-process / multi-instance activity), ``None`` at process level. ``flow`` is the
    sequence flow it arrived by (joins count tokens per incoming flow). ``data`` holds the
    behaviour's bookkeeping; ``data["locals"]`` is the token's local variable scope.
    """

    id: str
    node: str
    scope: str | None = None
    status: str = READY
    flow: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "scope": self.scope, "status": self.status,
                "flow": self.flow, "data": self.data}

    @classmethod
    def from_dict(cls, token_id: str, raw: dict[str, Any]) -> "Token":
        return cls(token_id, raw["node"], raw.get("scope"), raw.get("status", READY),
                   raw.get("flow"), raw.get("data") or {})


@dataclass(slots=True)
class Wait:
    """One thing a token waits for, addressed by events through its id.

    ``kind`` is ``task``, ``call``, ``timer``, ``message``, ``signal`` or ``child``; ``node``
    is the node whose event it is (the activity, the catch event, the boundary event or the
    event-gateway target); ``info`` carries what matching needs (message name and
    correlation value, signal name, due time).
    """

    id: str
    kind: str
    token: str
    node: str
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "token": self.token, "node": self.node, "info": self.info}

    @classmethod
    def from_dict(cls, wait_id: str, raw: dict[str, Any]) -> "Wait":
        return cls(wait_id, raw["kind"], raw["token"], raw["node"], raw.get("info") or {})


@dataclass(slots=True)
class InstanceState:
    """Everything the core knows about one instance between two steps.

    ``completed`` is the compensation log: activities that completed and can be compensated,
    in completion order, each with the variables as they were then.
    """

    status: str = NEW
    variables: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    waits: dict[str, Wait] = field(default_factory=dict)
    completed: list[dict[str, Any]] = field(default_factory=list)
    ended_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "status": self.status,
            "variables": self.variables,
            "tokens": {tid: t.to_dict() for tid, t in self.tokens.items()},
            "waits": {wid: w.to_dict() for wid, w in self.waits.items()},
            "completed": self.completed,
            "ended_by": self.ended_by,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "InstanceState":
        fmt = raw.get("format")
        if fmt not in SUPPORTED_STATE_FORMATS:
            raise StateFormatError(f"unsupported engine state format {fmt!r}")
        return cls(
            status=raw.get("status", NEW),
            variables=raw.get("variables") or {},
            tokens={tid: Token.from_dict(tid, t) for tid, t in (raw.get("tokens") or {}).items()},
            waits={wid: Wait.from_dict(wid, w) for wid, w in (raw.get("waits") or {}).items()},
            completed=list(raw.get("completed") or []),
            ended_by=raw.get("ended_by"),
        )

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED

    def tokens_in(self, scope: str | None) -> list[Token]:
        """Tokens directly inside a scope (None = process level); for store mirrors."""
        return [t for t in self.tokens.values() if t.scope == scope]

    def waits_of(self, token_id: str) -> list[Wait]:
        return [w for w in self.waits.values() if w.token == token_id]
