"""History buffering: events collected during a transaction, numbered and written in bulk.

The instance row is locked for the whole transaction, so numbering from its
``history_seq`` counter cannot race; the counter is saved with the instance row.
"""
from __future__ import annotations

from typing import Any, Iterable

from django.utils import timezone

from runtime.models import HistoryEvent, ProcessInstance


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any]:
    if not data:
        return {}
    out = {}
    for key, value in data.items():
        out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


class HistoryBuffer:
    """The ``HistorySink`` of one instance for one transaction."""

    def __init__(self, instance: ProcessInstance, actor: str = ""):
        self.instance = instance
        self.actor = actor
        self.rows: list[HistoryEvent] = []

    def add(self, type: str, *, node: str | None = "", token: str | None = "", from_state: str | None = "",
            to_state: str | None = "", data: dict[str, Any] | None = None, actor: str = "") -> None:
        self.rows.append(HistoryEvent(
            type=type, node_id=node or "", token_id=token or "", actor=actor or self.actor,
            from_state=from_state or "", to_state=to_state or "", data=_jsonable(data),
        ))

    def extend_engine(self, entries: Iterable[Any]) -> None:
        """Append the core's ``HistoryEntry`` records as they are."""
        for entry in entries:
            self.add(entry.type, node=entry.node, token=entry.token, from_state=entry.from_state,
                     to_state=entry.to_state, data=entry.data)

    def number(self) -> list[HistoryEvent]:
        """Give the buffered rows their sequence numbers; the caller saves the instance."""
        rows, self.rows = self.rows, []
        now = timezone.now()
        seq = self.instance.history_seq
        for row in rows:
            seq += 1
            row.instance_id = self.instance.pk
            row.seq = seq
            row.timestamp = now
        self.instance.history_seq = seq
        return rows
