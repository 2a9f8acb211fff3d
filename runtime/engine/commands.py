"""Commands the core returns: the store turns each into rows and I/O after the step.

Every command has ``kind`` (stable string) and ``to_dict()`` (JSON-ready: datetimes become
ISO 8601 strings). A command that opens a wait carries its ``wait_id``; the event closing
the wait carries the same id back, and the cancelling command names it too.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, fields
from typing import Any, ClassVar, NamedTuple


class Command:
    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, _dt.datetime) else value
        return out


@dataclass(frozen=True, slots=True)
class CreateHumanTask(Command):
    kind: ClassVar[str] = "create_human_task"
    wait_id: str
    token_id: str
    node: str
    name: str
    assignee: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    due_date: _dt.datetime | None
    priority: int | None
    form: list[dict]
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CancelHumanTask(Command):
    kind: ClassVar[str] = "cancel_human_task"
    wait_id: str
    token_id: str
    node: str


@dataclass(frozen=True, slots=True)
class ScheduleServiceCall(Command):
    """Run a connector. ``wait_id`` is the activity execution id: keep it across retries
    (the HTTP connector's ``Idempotency-Key`` is ``<instance id>:<wait_id>``)."""

    kind: ClassVar[str] = "schedule_service_call"
    wait_id: str
    token_id: str
    node: str
    connector: str | None
    http: dict[str, Any] | None
    handler: str | None
    inputs: dict[str, Any]
    result_variable: str | None
    retries: int
    retry_backoff: str | None
    timeout: str | None
    backoff_coefficient: float | None = None
    max_interval: str | None = None


@dataclass(frozen=True, slots=True)
class CancelServiceCall(Command):
    kind: ClassVar[str] = "cancel_service_call"
    wait_id: str
    token_id: str
    node: str


@dataclass(frozen=True, slots=True)
class ScheduleTimer(Command):
    kind: ClassVar[str] = "schedule_timer"
    wait_id: str
    token_id: str
    node: str
    due_at: _dt.datetime
    timer: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CancelTimer(Command):
    kind: ClassVar[str] = "cancel_timer"
    wait_id: str
    token_id: str
    node: str


@dataclass(frozen=True, slots=True)
class SubscribeMessage(Command):
    kind: ClassVar[str] = "subscribe_message"
    wait_id: str
    token_id: str
    node: str
    name: str
    correlation_key: Any


@dataclass(frozen=True, slots=True)
class SubscribeSignal(Command):
    kind: ClassVar[str] = "subscribe_signal"
    wait_id: str
    token_id: str
    node: str
    name: str


@dataclass(frozen=True, slots=True)
class Unsubscribe(Command):
    """Drop a message or signal subscription (``subscription`` is ``message``/``signal``)."""

    kind: ClassVar[str] = "unsubscribe"
    wait_id: str
    token_id: str
    node: str
    subscription: str


@dataclass(frozen=True, slots=True)
class PublishMessage(Command):
    kind: ClassVar[str] = "publish_message"
    name: str
    correlation_key: Any
    variables: dict[str, Any]
    token_id: str
    node: str


@dataclass(frozen=True, slots=True)
class ThrowSignal(Command):
    """Broadcast to *other* instances and signal start events; this instance's own signal
    waits were already triggered inside the step."""

    kind: ClassVar[str] = "throw_signal"
    name: str
    variables: dict[str, Any]
    token_id: str
    node: str


@dataclass(frozen=True, slots=True)
class StartChildInstance(Command):
    kind: ClassVar[str] = "start_child_instance"
    wait_id: str
    token_id: str
    node: str
    process_key: str
    variables: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CancelChild(Command):
    kind: ClassVar[str] = "cancel_child"
    wait_id: str
    token_id: str
    node: str


@dataclass(frozen=True, slots=True)
class Incident(Command):
    """A failure nothing in the model handles but an operator can retry; the token waits on."""

    kind: ClassVar[str] = "incident"
    wait_id: str | None
    token_id: str
    node: str
    error_code: str | None
    message: str


@dataclass(frozen=True, slots=True)
class InstanceStatusChanged(Command):
    kind: ClassVar[str] = "instance_status_changed"
    old: str
    new: str
    node: str | None = None
    error_code: str | None = None
    message: str = ""


class HistoryEntry(NamedTuple):
    """One audit record; the store numbers them and writes them in bulk.

    ``type`` is one of HISTORY_TYPES; ``from_state``/``to_state`` are token statuses for
    token records and instance statuses for ``instance.*`` records. A named tuple rather
    than a frozen dataclass like the commands: a run records about three per node, and a
    frozen dataclass took more than twice as long to build.
    """

    type: str
    node: str | None
    token: str | None
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "node": self.node, "token": self.token,
                "from_state": self.from_state, "to_state": self.to_state, "data": self.data}


HISTORY_TYPES = (
    "instance.status",      # from/to instance status
    "token.created",        # a new token (start, fork, boundary, multi-instance, handler)
    "token.moved",          # data: flow (taken sequence flow)
    "token.status",         # a token began waiting / joining / hosting a scope
    "token.consumed",       # ended normally (end event, join merge)
    "token.cancelled",      # interrupted, terminated, cancelled
    "activity.started",
    "activity.completed",
    "activity.cancelled",
    "event.triggered",      # a wait fired: timer, message, signal, boundary
    "gateway.fired",        # data: flows taken
    "error.thrown",         # data: code, message, caught_by
    "compensation.started",
    "compensation.completed",
    "event.ignored",        # stale / duplicate event
)
