"""Events fed into ``run()``: what happened outside the core since the last wait state.

External waits are addressed by ``wait_id`` (the id carried by the command that opened the
wait: ``CreateHumanTask.wait_id``, ``ScheduleTimer.wait_id``...). An event whose wait no
longer exists is stale (a duplicate delivery, a late timer after cancellation) and is
ignored: the step returns ``ignored`` with the reason and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Start:
    """Start the instance at ``node`` (a start event id), the none start event when None."""

    variables: dict[str, Any] = field(default_factory=dict)
    node: str | None = None


@dataclass(frozen=True, slots=True)
class TaskCompleted:
    """A human task was completed; ``variables`` are the submitted (validated) values."""

    wait_id: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimerFired:
    wait_id: str


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A correlated message: by ``wait_id`` when the store matched a subscription row,
    otherwise by ``name`` + ``correlation_key`` against this instance's subscriptions."""

    wait_id: str | None = None
    name: str | None = None
    correlation_key: Any = None
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SignalReceived:
    """A broadcast signal: triggers every signal wait of this instance with ``name``."""

    name: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceCallSucceeded:
    wait_id: str
    result: Any = None


@dataclass(frozen=True, slots=True)
class ServiceCallFailed:
    """A call failed for good: a business error (4xx, raised BPMN error) or exhausted retries.

    The store runs the retries; the core only routes the outcome: a matching error boundary
    event catches it; otherwise a ``retryable`` failure becomes an ``Incident`` (the token
    keeps waiting, the store may re-run the call with the same wait id), a non-retryable
    one fails the instance.
    """

    wait_id: str
    error_code: str | None = None
    message: str = ""
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class ChildCompleted:
    """The child instance of a call activity ended normally with these final variables."""

    wait_id: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChildFailed:
    """The child ended abnormally; with ``error_code`` it is a BPMN error the call activity's
    error boundary can catch, without one (cancelled, incident) the parent fails."""

    wait_id: str
    error_code: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class Cancel:
    """Operator cancellation: every token and wait is cancelled, status becomes cancelled."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class Compensate:
    """Operator-started saga rollback: cancel what runs, compensate every completed
    activity of the process in reverse order, then end as compensated."""

    reason: str = ""


Event = (Start | TaskCompleted | TimerFired | MessageReceived | SignalReceived
         | ServiceCallSucceeded | ServiceCallFailed | ChildCompleted | ChildFailed
         | Cancel | Compensate)
