"""Process-level start triggers the store keeps outside any instance.

Timer and message start events create instances, so their jobs and subscriptions belong to
the deployed version, not to an instance: the store lists them here on deploy, and runs
``Start(node=...)`` on a new instance when one fires.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from .graph import Graph
from .timers import Due, compute_due


@dataclass(frozen=True)
class StartTrigger:
    node: str
    kind: str                  # "timer" | "message" | "signal"
    name: str | None = None    # message / signal name
    due: Due | None = None     # timers: first occurrence (cycles carry repeats + interval)


def start_triggers(graph: Graph, now: _dt.datetime) -> list[StartTrigger]:
    out = []
    for node in graph.start_events(None):
        kind = node.event_kind
        if kind == "timer":
            out.append(StartTrigger(node.id, kind, due=compute_due(node.event["timer"], {}, now)))
        elif kind == "message":
            out.append(StartTrigger(node.id, kind, name=node.event["message"]))
        elif kind == "signal":
            out.append(StartTrigger(node.id, kind, name=node.event["signal"]))
    return out
