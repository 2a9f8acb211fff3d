"""Retry policy of a service task: how long to wait before the next attempt.

A policy is the task's compiled props (``retries``, ``retry_backoff``) plus optional
``backoff_coefficient`` and ``max_interval``; it is plain data so the store can persist it
with the call and any worker can continue the schedule after a restart. The delay grows
geometrically from the initial interval and is capped; it is deterministic, so the
schedule an operator reads in the docs is the one that runs.

``retries = 3`` means three retries after the first attempt, four attempts in all.
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import isodate

DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = "PT1S"
DEFAULT_COEFFICIENT = 2.0
DEFAULT_MAX_INTERVAL = "PT5M"
DEFAULT_TIMEOUT = "PT30S"

_EPOCH = dt.datetime(2000, 1, 1)


def duration_seconds(value: Any, default: Any = None) -> float:
    """Seconds from an ISO 8601 duration (``"PT1.5S"``) or a number; ``None`` -> default."""
    if value is None or value == "":
        if default is None:
            raise ValueError("a duration is required")
        return duration_seconds(default)
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    else:
        seconds = _iso_seconds(str(value).strip())
    if seconds < 0:
        raise ValueError(f"negative duration: {value!r}")
    return seconds


@functools.lru_cache(maxsize=512)
def _iso_seconds(text: str) -> float:
    """Parsed once per distinct text: every service call reads its timeout and its
    breaker's settings, and isodate's parser is slower than the rest of that step."""
    try:
        parsed = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError) as exc:
        raise ValueError(f"not an ISO 8601 duration: {text!r}") from exc
    if isinstance(parsed, isodate.Duration):  # has months/years: measure from a fixed date
        parsed = parsed.totimedelta(start=_EPOCH)
    return parsed.total_seconds()


def max_attempts(policy: dict) -> int:
    """First attempt plus ``retries``."""
    return 1 + max(0, int(policy.get("retries", DEFAULT_RETRIES)))


def retries_left(policy: dict, attempt: int) -> bool:
    """True when attempt number ``attempt`` (1-based) failed and another one is allowed."""
    return attempt < max_attempts(policy)


def next_delay(policy: dict, attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based) before the next one.

    ``initial * coefficient ** (attempt - 1)``, capped at ``max_interval``:
    PT1S, coefficient 2, cap PT5M gives 1, 2, 4, 8, ... 256, 300, 300.
    """
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    initial = duration_seconds(policy.get("retry_backoff"), DEFAULT_BACKOFF)
    coefficient = float(policy.get("backoff_coefficient") or DEFAULT_COEFFICIENT)
    if coefficient < 1.0:
        raise ValueError(f"backoff_coefficient must be at least 1, not {coefficient}")
    cap = duration_seconds(policy.get("max_interval"), DEFAULT_MAX_INTERVAL)
    try:
        delay = initial * coefficient ** (attempt - 1)
    except OverflowError:
        return cap
    return min(delay, cap)
