"""History buffering: events collected during a transaction, numbered and written in bulk.

The instance row is locked for the whole transaction, so numbering from its
``history_seq`` counter cannot race; the counter is saved with the instance row.

Rows are buffered as plain tuples, not model instances: a run to a wait state easily
writes thirty of them, and building and preparing Django model objects field by field
cost more CPU than the rest of the step. On PostgreSQL they go in as one JSON document
(``jsonb_to_recordset``, one parameter, serialised in C); elsewhere through
``bulk_create``.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from django.db import connection
from django.utils import timezone

from runtime.models import HistoryEvent, ProcessInstance

#: (type, node_id, token_id, actor, from_state, to_state, data)
Entry = tuple[str, str, str, str, str, str, dict]
#: an Entry numbered for writing: (instance, seq, timestamp, *Entry); the instance's id is
#: read at write time, as a new instance may be inserted only at commit
Row = tuple
COLUMNS = ("instance_id", "seq", "timestamp", "type", "node_id", "token_id", "actor", "from_state", "to_state", "data")
#: the record type ``jsonb_to_recordset`` reads rows as, column for column
RECORD_TYPES = ("instance_id bigint, seq bigint, timestamp timestamptz, type text, node_id text, token_id text, "
                "actor text, from_state text, to_state text, data jsonb")
BATCH = 1000


#: values that are JSON as they are (most of the engine's); anything else is asked for isoformat()
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any]:
    if not data:
        return {}
    out = {}
    for key, value in data.items():
        out[key] = value if type(value) in _PLAIN or not hasattr(value, "isoformat") else value.isoformat()
    return out


class HistoryBuffer:
    """The ``HistorySink`` of one instance for one transaction."""

    def __init__(self, instance: ProcessInstance, actor: str = ""):
        self.instance = instance
        self.actor = actor
        self.rows: list[Entry] = []

    def add(self, type: str, *, node: str | None = "", token: str | None = "", from_state: str | None = "",
            to_state: str | None = "", data: dict[str, Any] | None = None, actor: str = "") -> None:
        self.rows.append((type, node or "", token or "", actor or self.actor, from_state or "", to_state or "",
                          _jsonable(data)))

    def extend_engine(self, entries: Iterable[Any]) -> None:
        """Append the core's ``HistoryEntry`` records as they are."""
        actor = self.actor
        self.rows.extend(
            (kind, node or "", token or "", actor, from_state or "", to_state or "", _jsonable(data))
            for kind, node, token, from_state, to_state, data in entries
        )

    def number(self) -> list[Row]:
        """Give the buffered rows their sequence numbers; the caller saves the instance."""
        rows, self.rows = self.rows, []
        now = timezone.now()
        instance, seq = self.instance, self.instance.history_seq
        numbered = [(instance, seq + i, now, *row) for i, row in enumerate(rows, start=1)]
        self.instance.history_seq = seq + len(rows)
        return numbered


def write(rows: list[Row]) -> None:
    """Insert numbered rows in as few statements as the database allows."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        HistoryEvent.objects.bulk_create([HistoryEvent(**dict(zip(COLUMNS, (row[0].pk, *row[1:])))) for row in rows],
                                         batch_size=500)
        return
    table = HistoryEvent._meta.db_table
    sql = (f'INSERT INTO "{table}" ({", ".join(COLUMNS)}) SELECT {", ".join(COLUMNS)} '
           f"FROM jsonb_to_recordset(%s::jsonb) AS r({RECORD_TYPES})")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            doc = json.dumps([dict(zip(COLUMNS, (row[0].pk, row[1], row[2].isoformat(), *row[3:])))
                              for row in rows[start:start + BATCH]], separators=(",", ":"))
            cursor.execute(sql, [doc])
