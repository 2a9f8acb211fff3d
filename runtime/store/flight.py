"""A whole unit of work as one statement (PostgreSQL), guarded instead of locked.

Applying a service call's outcome usually writes the same few rows: the call finished, the
token moved on (or gone at the end), the next call inserted, the instance updated, its
history appended. In a transaction that is BEGIN, a lock, five writes and COMMIT: eight
round trips around an engine step of a few hundred microseconds. A ``Flight`` collects
those writes instead and sends them as one data-modifying CTE, which commits by itself.

The lock becomes a guard. The worker that claimed the call holds a copy of the instance as
it committed it; the statement's first part updates the instance row only if its
``history_seq`` and ``updated_at`` are still that copy's (every write of an instance row
saves both, and every change to its tokens, calls or waits holds its lock and writes
history) and the call is still as this worker read it (the attempt it claimed). Every
other part runs only if that update did. A concurrent writer therefore either committed
before (the guard fails and nothing is written) or waits on the row lock the update
takes. A failed guard raises ``FlightConflict`` and the caller applies the outcome the
ordinary way, in a transaction.

A start that stops at service calls is a flight too, around the INSERT of its instance
instead of a guarded UPDATE (with the version check of ``inserts.insert_instance``): the
instance, its tokens, its calls and its history in one statement.

Anything beyond those rows (a human task, a timer, a token forking, another instance, a
``post_save`` receiver that writes) raises ``NeedsTransaction`` before anything is sent,
and ``only_the_flight_writes`` turns any other write statement into that exception.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Callable

from django.db import DEFAULT_DB_ALIAS, connection

from runtime.models import ProcessInstance, ServiceCall, Token
from runtime.store.inserts import (TOKEN_UPDATE, UPDATE_INSTANCE, StaleVersion, VersionGuard, current_db, history_insert,
                                   history_params, insert_params, insert_statement, inserted, on_postgresql,
                                   prepared_cursor, token_loop, update_params, updated)

#: Asked before a unit of work runs outside a transaction (a start, a service call's claim
#: or outcome); any True keeps it in one. For apps whose ``post_save`` receivers write rows
#: for an instance, which must commit with it (webhooks registers "is any webhook active?").
NEEDS_TRANSACTION: list[Callable[[], bool]] = []


def can_fly() -> bool:
    """May this unit of work write outside a transaction (PostgreSQL, none open, no app
    that needs one)?"""
    return (on_postgresql() and not current_db().in_atomic_block
            and not any(needs() for needs in NEEDS_TRANSACTION))


class FlightConflict(Exception):
    """The instance or the call changed since it was read: nothing was written."""


class NeedsTransaction(Exception):
    """A unit of work running outside a transaction reached a write that must be in one."""


_CALL = ServiceCall._meta
_TOKEN = Token._meta
_CALL_FIELDS = list(_CALL.local_concrete_fields)  # the id too: reserved beforehand
#: a call's instance and idempotency key come from the instance's row (a new one has no id yet)
_CALL_VALUES = {"instance_id": 'u."id"', "idempotency_key": 'u."id"::text || %s'}
_TOKEN_FIELDS = ["token_id", "node_id", "state", "scope", "loop", "since"]
_UNDER_GUARD = 'EXISTS (SELECT 1 FROM u)'


def _quoted(columns) -> str:
    return ", ".join(f'"{column}"' for column in columns)


_GUARD = (f'u AS ({UPDATE_INSTANCE} WHERE "id" = %s AND "history_seq" = %s AND "updated_at" = %s'
          '{checks} RETURNING "id")')
_CALL_UNCHANGED = (f' AND EXISTS (SELECT 1 FROM "{_CALL.db_table}" WHERE "id" = %s AND "state" = %s AND "attempt" = %s'
                   ' AND "started_at" IS NOT DISTINCT FROM %s)')
_TOKEN_EXISTS = f' AND EXISTS (SELECT 1 FROM "{_TOKEN.db_table}" WHERE "instance_id" = %s AND "token_id" = %s)'
_PARTS = {
    "finish": (f'UPDATE "{_CALL.db_table}" SET "state" = %s, "result" = %s, "finished_at" = %s, "last_error" = %s '
               f'WHERE "id" = %s AND {_UNDER_GUARD}'),
    "claim": (f'UPDATE "{_CALL.db_table}" SET "state" = %s, "attempt" = %s, "started_at" = %s '
              f'WHERE "id" = %s AND {_UNDER_GUARD}'),
    "move": f"{TOKEN_UPDATE} AND {_UNDER_GUARD}",
    "drop": f'DELETE FROM "{_TOKEN.db_table}" WHERE "instance_id" = %s AND "token_id" = ANY(%s) AND {_UNDER_GUARD}',
    "call": (f'INSERT INTO "{_CALL.db_table}" ({_quoted(f.column for f in _CALL_FIELDS)}) '
             f'SELECT {", ".join(_CALL_VALUES.get(f.attname, "%s") for f in _CALL_FIELDS)} FROM u'),
    "token": (f'INSERT INTO "{_TOKEN.db_table}" ({_quoted(["instance_id", *_TOKEN_FIELDS])}) '
              f'SELECT u."id", {", ".join(["%s"] * len(_TOKEN_FIELDS))} FROM u'),
    "history": history_insert("u"),
}


class Flight:
    """The writes of one unit of work on one instance, sent by ``send()``: an existing
    instance (guarded by its committed copy), or a new one (``instance.pk`` None)."""

    def __init__(self, instance: ProcessInstance, *, call_as_read: ServiceCall | None = None,
                 version_guard: VersionGuard | None = None):
        """``call_as_read``: a call whose state, attempt and started_at the guard checks too."""
        self.instance = instance
        self.new = instance.pk is None
        self.expected = (instance.pk, instance.history_seq, instance.updated_at)
        self.call_as_read = None if call_as_read is None else [
            call_as_read.pk, call_as_read.state, call_as_read.attempt, call_as_read.started_at]
        self.version_guard = version_guard
        self.parts: list[tuple[str, list]] = []
        self.checks: list[tuple[str, list]] = []
        self.update: list | None = None
        self.new_calls: list[ServiceCall] = []
        self.sending = False
        self.landed = False  # committed: what runs after (post_save receivers) may write

    def _needs(self, instance_id) -> None:
        if instance_id != self.instance.pk:  # a second instance (a parent, a child): not ours to guard
            raise NeedsTransaction

    # -- the parts ---------------------------------------------------------------------

    def claim_call(self, call: ServiceCall) -> None:
        self._needs(call.instance_id)
        self.parts.append(("claim", [call.state, call.attempt, call.started_at, call.pk]))

    def finish_call(self, call: ServiceCall, *, state: str, result, finished_at, last_error: str) -> None:
        self._needs(call.instance_id)
        self.parts.append(("finish", [state, _CALL.get_field("result").get_db_prep_save(result, current_db()), finished_at, last_error, call.pk]))

    def move_token(self, *, instance_id: int, token_id: str, node: str, state: str, scope: str, loop, since) -> None:
        self._needs(instance_id)
        self.checks.append((_TOKEN_EXISTS, [instance_id, token_id]))
        self.parts.append(("move", [node, state, scope, token_loop(loop), since, instance_id, token_id]))

    def insert_token(self, *, instance_id: int | None, token_id: str, node: str, state: str, scope: str, loop,
                     since) -> None:
        self._needs(instance_id)
        self.parts.append(("token", [token_id, node, state, scope, token_loop(loop), since]))

    def drop_tokens(self, instance_id: int, token_ids: list[str]) -> None:
        self._needs(instance_id)
        self.parts.append(("drop", [instance_id, list(token_ids)]))

    def insert_calls(self, calls: list[ServiceCall]) -> None:
        """New calls with ids already reserved (``reserve_call_ids``)."""
        db = current_db()
        for call in calls:
            self._needs(call.instance_id)
            if call.idempotency_key != f"{call.instance_id}:{call.wait_id}":
                raise NeedsTransaction  # not the key the statement builds
            values = []
            for f in _CALL_FIELDS:
                if f.attname == "idempotency_key":
                    values.append(f":{call.wait_id}")
                elif f.attname != "instance_id":
                    values.append(f.get_db_prep_save(f.pre_save(call, True), db))
            self.parts.append(("call", values))
            self.new_calls.append(call)

    def update_instance(self, instance: ProcessInstance) -> None:
        """The instance's own row: its guarded UPDATE, or the INSERT of a new one."""
        self._needs(instance.pk)
        if self.new:
            self.update = insert_params(instance, self.version_guard)
            return
        self.update = update_params(instance)

    def history(self, rows: list) -> None:
        if not rows:
            return
        if any(row[0] is not self.instance for row in rows) or len({row[2] for row in rows}) != 1:
            raise NeedsTransaction
        self.parts.append(("history", history_params(rows)))

    # -- sending -----------------------------------------------------------------------

    def send(self) -> None:
        """The one statement. ``FlightConflict`` if the guard of an existing instance failed,
        ``StaleVersion`` if a new one's version is no longer the latest: nothing written."""
        if self.update is None:
            raise NeedsTransaction  # nothing changed the instance: not a unit this path knows
        params = list(self.update)
        if self.new:
            ctes = [f"u AS ({insert_statement(self.version_guard)})"]
        else:
            checks = ""
            params += list(self.expected)
            if self.call_as_read is not None:
                checks += _CALL_UNCHANGED
                params += self.call_as_read
            for sql, values in self.checks:
                checks += sql
                params += values
            ctes = [_GUARD.format(checks=checks)]
        for index, (kind, values) in enumerate(self.parts):
            ctes.append(f"p{index} AS ({_PARTS[kind]})")
            params += values
        sql = "WITH " + ", ".join(ctes) + ' SELECT "id" FROM u'
        self.sending = True
        try:
            with prepared_cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        finally:
            self.sending = False
        if row is None:
            if self.new:
                raise StaleVersion
            raise FlightConflict(f"instance #{self.instance.pk} changed since it was read")
        self.landed = True
        if self.new:
            inserted(self.instance, row[0])
            for call in self.new_calls:
                call.instance_id, call.idempotency_key = row[0], f"{row[0]}:{call.wait_id}"
        else:
            updated(self.instance)
        for call in self.new_calls:
            call._state.adding, call._state.db = False, DEFAULT_DB_ALIAS


@contextmanager
def only_the_flight_writes(uow):
    """While ``uow`` has a flight, its statement is the only write allowed on this
    connection: any other raises ``NeedsTransaction`` before it reaches the database (so
    a step this module does not know cannot half-commit). Reads pass."""
    def refuse_other_writes(execute, sql, params, many, context):
        flight = uow.flight
        if (flight is not None and not (flight.sending or flight.landed)
                and sql.lstrip()[:6].upper() != "SELECT"):
            raise NeedsTransaction
        return execute(sql, params, many, context)

    with current_db().execute_wrapper(refuse_other_writes):
        yield


# -- ids reserved ahead of their rows -----------------------------------------------------

_reserved: dict[tuple[int, str], list[int]] = {}
_reserved_lock = threading.Lock()
RESERVE_BLOCK = 64


def reserve_call_ids(count: int) -> list[int]:
    """Ids for new service calls before their INSERT (a flight's history names the call),
    drawn from the table's own sequence in blocks per process, as Camunda's id generator
    does: a block costs one query per ``RESERVE_BLOCK`` calls. Ids stay unique; a block a
    process does not use up leaves a gap, as a rolled-back insert does."""
    key = (os.getpid(), connection.settings_dict["NAME"])
    with _reserved_lock:
        pool = _reserved.setdefault(key, [])
        if len(pool) < count:
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                               [_CALL.db_table, max(RESERVE_BLOCK, count)])
                pool.extend(row[0] for row in cursor.fetchall())
        taken, pool[:count] = pool[:count], []
    return taken
