"""Writing instance rows: a new one, on PostgreSQL in one statement with its history,
and the update every unit of work ends with.

A start that runs straight to its end (or whose first run needs no other row) writes
exactly two things: the instance and its history. ``insert_instance`` sends both as one
statement (a data-modifying CTE) that commits by itself when no transaction is open.
The statements and parameters here are shared with ``runtime.store.flight``, which sends
a whole unit of work the same way.

``guard`` makes the insert conditional on the instance's version still being the newest
of its process: the start then trusts a cached "latest version" instead of reading it,
and the same statement checks it. A start whose guard fails inserts nothing and raises
``StaleVersion``; its caller rolls back and starts again with a fresh lookup.
"""
from __future__ import annotations

import functools
import json
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models.base import ModelState
from django.db.models.signals import post_save, pre_save

from designer.models import ProcessVersion
from runtime.models import HistoryEvent, ProcessInstance, ServiceCall, Token
from runtime.store.history import COLUMNS, Row


class VersionGuard(NamedTuple):
    process_key: str
    version_id: int


class StaleVersion(Exception):
    """A newer version was deployed since the cached lookup: start again."""


_FIELDS = [f for f in ProcessInstance._meta.local_concrete_fields if not f.primary_key]
_INSTANCE = ProcessInstance._meta.db_table
_HISTORY = HistoryEvent._meta.db_table
_VERSION = ProcessVersion._meta.db_table
_DEFINITION = ProcessVersion._meta.get_field("definition").related_model._meta.db_table


def _sql(*, guarded: bool, with_history: bool) -> str:
    columns = ", ".join(f'"{f.column}"' for f in _FIELDS)
    values = ", ".join(["%s"] * len(_FIELDS))
    guard = (f' WHERE (SELECT v."id" FROM "{_VERSION}" v JOIN "{_DEFINITION}" d ON d."id" = v."definition_id" '
             f'WHERE d."key" = %s ORDER BY v."number" DESC LIMIT 1) = %s' if guarded else "")
    insert = f'INSERT INTO "{_INSTANCE}" ({columns}) SELECT {values}{guard} RETURNING "id"'
    if not with_history:
        return insert
    return f'WITH i AS ({insert}), h AS ({history_insert("i")}) SELECT "id" FROM i'


def history_insert(source: str) -> str:
    """INSERT of numbered history rows for the instance whose id the CTE ``source`` returns;
    parameters: ``history_params``. Rows arrive as one JSON array of arrays (seq, type, node,
    token, actor, from, to, data), cheaper to build and send than objects; they share one
    timestamp, sent once."""
    return (f'INSERT INTO "{_HISTORY}" ({", ".join(COLUMNS)}) SELECT {source}."id", (e->>0)::bigint, '
            f"%s::timestamptz, e->>1, e->>2, e->>3, e->>4, e->>5, e->>6, e->7 "
            f"FROM {source}, jsonb_array_elements(%s::jsonb) AS e")


def history_params(rows: list[Row]) -> list:
    """Parameters of ``history_insert`` for rows of one instance numbered at one time."""
    return [rows[0][2], json.dumps([(row[1], *row[3:]) for row in rows], separators=(",", ":"))]


_STATEMENTS = {(g, h): _sql(guarded=g, with_history=h) for g in (False, True) for h in (False, True)}


def insert_statement(guard: VersionGuard | None) -> str:
    """The bare INSERT of a new instance, RETURNING its id (no row when ``guard`` fails)."""
    return _STATEMENTS[guard is not None, False]


def insert_params(instance: ProcessInstance, guard: VersionGuard | None) -> list:
    """Parameters of ``insert_statement``; sends ``pre_save`` as ``Model.save`` would."""
    pre_save.send(sender=ProcessInstance, instance=instance, raw=False, using=DEFAULT_DB_ALIAS, update_fields=None)
    db = current_db()
    params = [f.get_db_prep_save(f.pre_save(instance, True), db) for f in _FIELDS]
    return params + [guard.process_key, guard.version_id] if guard is not None else params


def inserted(instance: ProcessInstance, pk: int) -> None:
    """The new instance's row is in: give it its id, send ``post_save`` as ``Model.save`` would
    (receivers such as webhooks see the new instance with its final status)."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    post_save.send(sender=ProcessInstance, instance=instance, created=True, update_fields=None, raw=False,
                   using=DEFAULT_DB_ALIAS)


def current_db():
    """This thread's default connection itself: ``django.db.connection`` is a proxy that
    looks the connection up in a context-local on every attribute read (~1.5 us each; a
    row's worth of field conversions read it once per field). Its alias is always
    ``DEFAULT_DB_ALIAS``: the engine's code uses that constant instead of asking."""
    return connections[DEFAULT_DB_ALIAS]


def twin(model):
    """A shallow copy of a model instance with its own ``_state`` (``copy.copy`` goes through
    Model's pickling protocol, and ``Model.__init__`` through every field: each slower than
    the step it serves). Mutable values (a JSON field's dict) are shared with the original."""
    copy = model.__class__.__new__(model.__class__)
    copy.__dict__.update(model.__dict__)
    copy._state = ModelState()
    copy._state.db, copy._state.adding = model._state.db, model._state.adding
    copy._state.fields_cache = dict(model._state.fields_cache)
    return copy


@functools.cache
def on_postgresql() -> bool:
    """Is the default database PostgreSQL? Settings fix it for the life of the process."""
    return connections[DEFAULT_DB_ALIAS].vendor == "postgresql"


def prepared_cursor():
    """For the engine's fixed hot statements. On PostgreSQL a cursor sending parameters apart
    from the statement (psycopg's default ``Cursor``) rather than Django's client-side
    binding, which quotes every parameter into the SQL text in Python (the history document
    is kilobytes of JSON); as the statement text is the same every time, psycopg prepares it
    after a few runs (no parse, no plan). Elsewhere Django's own cursor."""
    db = current_db()
    if not on_postgresql():
        return db.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    db.ensure_connection()
    return db._prepare_cursor(ServerBindingCursor(db.connection))


def insert_instance(instance: ProcessInstance, *, rows: list[Row] = (), guard: VersionGuard | None = None) -> bool:
    """INSERT ``instance`` and set its pk; on PostgreSQL its numbered history ``rows`` go in
    the same statement (returns True). Elsewhere the rows are left to the caller's ordinary
    history write (returns False) and a guard costs a query of its own."""
    if not on_postgresql():
        if guard is not None and guard.version_id != ProcessVersion.objects.filter(
                definition__key=guard.process_key).order_by("-number").values_list("pk", flat=True).first():
            raise StaleVersion
        instance.save(force_insert=True)
        return False
    params = insert_params(instance, guard)
    if rows:
        params += history_params(rows)
    sql = _STATEMENTS[guard is not None, bool(rows)]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:
        raise StaleVersion
    inserted(instance, found[0])
    return bool(rows)


#: the fields a unit of work changes on an instance it ran (``UnitOfWork.commit``)
SAVE_FIELDS = ["status", "variables", "state", "state_format", "ended_at", "has_incident", "incident_count",
               "history_seq", "updated_at"]
_SAVE = [ProcessInstance._meta.get_field(name) for name in SAVE_FIELDS]
#: the instance UPDATE up to its WHERE: parameters ``update_params``, then the WHERE's
UPDATE_INSTANCE = f'UPDATE "{_INSTANCE}" SET ' + ", ".join(f'"{f.column}" = %s' for f in _SAVE)
_UPDATE_BY_ID = UPDATE_INSTANCE + ' WHERE "id" = %s'
_SAVE_SET = frozenset(SAVE_FIELDS)


def update_params(instance: ProcessInstance) -> list:
    """Parameters of ``UPDATE_INSTANCE``; sends ``pre_save`` as ``Model.save`` would."""
    pre_save.send(sender=ProcessInstance, instance=instance, raw=False, using=DEFAULT_DB_ALIAS, update_fields=_SAVE_SET)
    db = current_db()
    return [f.get_db_prep_save(f.pre_save(instance, False), db) for f in _SAVE]


def updated(instance: ProcessInstance) -> None:
    """The instance's row was updated: ``post_save`` as ``Model.save`` would send it."""
    post_save.send(sender=ProcessInstance, instance=instance, created=False, update_fields=_SAVE_SET, raw=False,
                   using=DEFAULT_DB_ALIAS)


def update_instance(instance: ProcessInstance) -> None:
    """``instance.save(update_fields=SAVE_FIELDS)``, signals included; on PostgreSQL as one
    prepared statement bound on the server, without the ORM building the query each time
    (every transaction of the engine ends with it)."""
    if not on_postgresql():
        instance.save(update_fields=SAVE_FIELDS)
        return
    with prepared_cursor() as cursor:
        cursor.execute(_UPDATE_BY_ID, update_params(instance) + [instance.pk])
        if cursor.rowcount != 1:
            raise DatabaseError(f"instance #{instance.pk} was not updated (no such row)")
    updated(instance)


_TOKEN = Token._meta
#: parameters: node, state, scope, loop (``token_loop``), since, instance id, token id
TOKEN_UPDATE = (f'UPDATE "{_TOKEN.db_table}" SET "node_id" = %s, "state" = %s, "scope" = %s, "loop" = %s, '
                '"since" = %s WHERE "instance_id" = %s AND "token_id" = %s')


def token_loop(loop):
    return _TOKEN.get_field("loop").get_db_prep_save(loop, current_db())


def move_token(*, instance_id: int, token_id: str, node: str, state: str, scope: str, loop, since) -> bool:
    """UPDATE one token's row (the commonest write of a step); False when it has none. On
    PostgreSQL a prepared statement bound on the server, not an ORM query built each time."""
    if not on_postgresql():
        return bool(Token.objects.filter(instance_id=instance_id, token_id=token_id).update(
            node_id=node, state=state, scope=scope, loop=loop, since=since))
    params = [node, state, scope, token_loop(loop), since, instance_id, token_id]
    with prepared_cursor() as cursor:
        cursor.execute(TOKEN_UPDATE, params)
        return cursor.rowcount > 0


def insert_calls(calls: list[ServiceCall]) -> None:
    """INSERT new call rows and give them their ids. On PostgreSQL one prepared INSERT ...
    RETURNING: ``bulk_create`` spent more CPU preparing one row than the database took to
    insert it, once per service task."""
    if not on_postgresql():
        ServiceCall.objects.bulk_create(calls)
        return
    fields = [f for f in ServiceCall._meta.local_concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(calls))
    db = current_db()
    params = [f.get_db_prep_save(f.pre_save(call, True), db) for call in calls for f in fields]
    with prepared_cursor() as cursor:
        cursor.execute(f'INSERT INTO "{ServiceCall._meta.db_table}" ({columns}) VALUES {values} RETURNING "id"', params)
        ids = [row[0] for row in cursor.fetchall()]
    for call, pk in zip(calls, ids, strict=True):  # in VALUES order, as bulk_create relies on too
        call.pk = pk
        call._state.adding, call._state.db = False, DEFAULT_DB_ALIAS
