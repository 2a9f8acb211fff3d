"""Engine events as JSON, for rows that carry an event until it can be applied
(continuations, incidents that remember what to retry)."""
from __future__ import annotations

import dataclasses
from typing import Any

from runtime.engine import events

EVENT_TYPES = {cls.__name__: cls for cls in (
    events.Start, events.TaskCompleted, events.TimerFired, events.MessageReceived, events.SignalReceived,
    events.ServiceCallSucceeded, events.ServiceCallFailed, events.ChildCompleted, events.ChildFailed,
    events.Cancel, events.Compensate,
)}


def event_to_dict(event: Any) -> dict[str, Any]:
    return {"type": type(event).__name__, **dataclasses.asdict(event)}


def event_from_dict(raw: dict[str, Any]) -> Any:
    fields = dict(raw)
    cls = EVENT_TYPES[fields.pop("type")]
    return cls(**fields)


def describe(event: Any) -> str:
    """A short label for history and incidents: ``TaskCompleted w1a2``."""
    wait = getattr(event, "wait_id", None)
    return f"{type(event).__name__} {wait}" if wait else type(event).__name__
