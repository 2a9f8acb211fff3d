"""ISO 8601 timer arithmetic: durations, absolute dates and repeating cycles.

A timer definition is the compiled ``{"type": "duration"|"date"|"cycle", "value": VALUE}``.
Cycles are ``R<n>/<duration>``, ``R/<duration>`` (unbounded) or
``R<n>/<start date>/<duration>``; ``repeats`` counts the occurrences still to come.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

import isodate

from .errors import EngineError
from .expressions import ExpressionError, evaluate_value


@dataclass(frozen=True)
class Due:
    at: _dt.datetime
    repeats: int | None  # occurrences left after this one for cycles; None = unbounded
    interval: str | None = None  # the cycle's ISO 8601 duration text


def _aware(value: _dt.datetime) -> _dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def parse_datetime(text: str) -> _dt.datetime:
    try:
        return _aware(isodate.parse_datetime(text))
    except (ValueError, isodate.ISO8601Error):
        try:
            return _aware(_dt.datetime.combine(isodate.parse_date(text), _dt.time()))
        except (ValueError, isodate.ISO8601Error) as exc:
            raise EngineError(f"invalid ISO 8601 date {text!r}: {exc}") from None


def parse_duration(text: str) -> Any:
    try:
        return isodate.parse_duration(text)
    except (ValueError, isodate.ISO8601Error) as exc:
        raise EngineError(f"invalid ISO 8601 duration {text!r}: {exc}") from None


def parse_cycle(text: str, now: _dt.datetime) -> Due:
    parts = text.split("/")
    if len(parts) not in (2, 3) or not parts[0].startswith("R"):
        raise EngineError(f"invalid ISO 8601 cycle {text!r} (expected R<n>/<duration>)")
    count = parts[0][1:]
    try:
        total = int(count) if count else None
    except ValueError:
        raise EngineError(f"invalid repeat count in cycle {text!r}") from None
    interval_text = parts[-1]
    interval = parse_duration(interval_text)
    if len(parts) == 3:
        first = parse_datetime(parts[1])
        while first < now and (total is None or total > 1):
            first += interval
            total = None if total is None else total - 1
    else:
        first = now + interval
    repeats = None if total is None else max(total - 1, 0)
    return Due(first, repeats, interval_text)


def compute_due(timer: dict[str, Any], variables: Any, now: _dt.datetime) -> Due:
    """When a timer first fires, given the variables visible where it starts waiting."""
    kind = timer.get("type")
    try:
        value = evaluate_value(timer.get("value"), variables)
    except ExpressionError as exc:
        raise EngineError(f"timer expression failed: {exc}") from None
    if isinstance(value, _dt.datetime):
        return Due(_aware(value), None)
    if not isinstance(value, str) or not value.strip():
        raise EngineError(f"timer {kind} value must be an ISO 8601 string, got {value!r}")
    value = value.strip()
    if kind == "duration":
        return Due(now + parse_duration(value), None)
    if kind == "date":
        return Due(parse_datetime(value), None)
    if kind == "cycle":
        return parse_cycle(value, now)
    raise EngineError(f"unknown timer type {kind!r}")


def next_occurrence(previous: _dt.datetime, interval: str, repeats: int | None) -> Due | None:
    """The next occurrence of a cycle after one due at ``previous``, None when exhausted."""
    if repeats is not None and repeats <= 0:
        return None
    return Due(previous + parse_duration(interval), None if repeats is None else repeats - 1,
               interval)


def due_value(value: Any, variables: Any, now: _dt.datetime) -> _dt.datetime | None:
    """A user task's dueDate VALUE: an ISO duration from now or an ISO date."""
    if value is None:
        return None
    try:
        value = evaluate_value(value, variables)
    except ExpressionError as exc:
        raise EngineError(f"due date expression failed: {exc}") from None
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        return _aware(value)
    text = str(value).strip()
    if text.startswith("P") or text.startswith("-P"):
        return now + parse_duration(text)
    return parse_datetime(text)
