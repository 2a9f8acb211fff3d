"""Reads of the runtime, keyword-only: inboxes, instance lists, history, monitoring counts.

The inbox query is the one that must stay fast with 100k open tasks across 50 groups:
"visible to me" is an OR of indexed conditions, each candidate test a semi-join on the
(user, task) / (group, task) indexes of the through tables.
"""
from __future__ import annotations

import threading

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from designer.models import ProcessVersion
from runtime.models import (HistoryEvent, HumanTask, HumanTaskState, Incident, IncidentState, ProcessInstance,
                            TaskCandidateGroup, TaskCandidateUser, Token)
from runtime.store.graphs import graph_for
from runtime.store.inserts import VersionGuard, on_postgresql, twin

ACTIVE_TASK_STATES = (HumanTaskState.OPEN, HumanTaskState.CLAIMED)


def task_visibility(user) -> Q:
    """Tasks the user may see: assigned to them, naming them or one of their groups as
    candidates, or naming nobody at all.

    Written as ``pk IN (a UNION of four indexed id lists)`` rather than an OR of
    conditions: with 100k open tasks an OR forces a scan of every task, the union reads
    only the user's share through the (group, task) / (user, task) indexes.
    """
    if user.is_superuser:
        return Q()
    group_ids = list(user.groups.values_list("id", flat=True))
    ids = (HumanTask.objects.filter(assignee_id=user.pk).order_by().values("id")
           .union(HumanTask.objects.filter(open_to_all=True, state__in=ACTIVE_TASK_STATES).order_by().values("id"),
                  TaskCandidateUser.objects.filter(user_id=user.pk).order_by().values("task_id"),
                  TaskCandidateGroup.objects.filter(group_id__in=group_ids).order_by().values("task_id")))
    return Q(pk__in=ids)


def task_list_for_user(*, user, state: str | None = None, mine: bool = False, process: str | None = None,
                       instance_id: int | None = None) -> QuerySet[HumanTask]:
    """The inbox: active tasks by default, highest priority and oldest first.

    ``mine`` narrows to tasks assigned to the user; ``state`` takes a task state or "all".
    """
    qs = HumanTask.objects.filter(task_visibility(user))
    if mine:
        qs = qs.filter(assignee_id=user.pk)
    if state in (None, "", "active"):
        qs = qs.filter(state__in=ACTIVE_TASK_STATES)
    elif state != "all":
        qs = qs.filter(state=state)
    if process:
        qs = qs.filter(instance__version__definition__key=process)
    if instance_id is not None:
        qs = qs.filter(instance_id=instance_id)
    # prefetch, not select_related: joining instances before the sort and LIMIT makes the
    # planner join every visible task; prefetching joins only the page.
    return (qs.select_related("assignee").prefetch_related("instance__version__definition")
            .order_by("-priority", "created_at", "id"))


def task_get_for_user(*, user, task_id: int) -> HumanTask | None:
    return task_list_for_user(user=user, state="all").filter(pk=task_id).first()


def instance_list(*, status: str | None = None, process: str | None = None, business_key: str | None = None,
                  version: int | None = None, has_incident: bool | None = None) -> QuerySet[ProcessInstance]:
    qs = ProcessInstance.objects.select_related("version__definition", "started_by")
    if status:
        qs = qs.filter(status=status)
    if process:
        qs = qs.filter(version__definition__key=process)
    if version is not None:
        qs = qs.filter(version__number=version)
    if business_key:
        qs = qs.filter(business_key=business_key)
    if has_incident is not None:
        qs = qs.filter(has_incident=has_incident)
    return qs.defer("state").order_by("-started_at", "-id")


def instance_get(*, instance_id: int) -> ProcessInstance | None:
    return ProcessInstance.objects.select_related("version__definition").filter(pk=instance_id).first()


def instance_tokens(*, instance: ProcessInstance) -> QuerySet[Token]:
    return Token.objects.filter(instance=instance).order_by("since", "id")


def instance_history(*, instance: ProcessInstance, after_seq: int = 0) -> QuerySet[HistoryEvent]:
    """Ordered history; ``after_seq`` lets a live client fetch only what it missed."""
    return HistoryEvent.objects.filter(instance=instance, seq__gt=after_seq).order_by("seq")


def instance_incidents(*, instance: ProcessInstance, open_only: bool = False) -> QuerySet[Incident]:
    qs = Incident.objects.filter(instance=instance)
    return qs.filter(state=IncidentState.OPEN) if open_only else qs


def completed_nodes(*, instance: ProcessInstance) -> list[str]:
    """Nodes a token of the instance has reached, in first-visit order (the path drawn on
    the diagram; where tokens are now comes from ``instance_tokens``)."""
    seen: dict[str, None] = {}
    for node in (HistoryEvent.objects.filter(instance=instance, type__in=("token.created", "token.moved"))
                 .exclude(node_id="").order_by("seq").values_list("node_id", flat=True)):
        seen.setdefault(node, None)
    return list(seen)


def token_counts(*, version: ProcessVersion) -> dict[str, int]:
    """Live tokens per node over the version's running instances (monitoring overlay)."""
    rows = (Token.objects.filter(instance__version=version, instance__status__in=("running", "suspended", "compensating"))
            .values("node_id").annotate(n=Count("id")))
    return {row["node_id"]: row["n"] for row in rows}


def instance_counts(*, version: ProcessVersion) -> dict[str, int]:
    rows = ProcessInstance.objects.filter(version=version).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


#: process key -> the newest version seen: (id, number, definition id). A hint only: a start
#: that uses it has its INSERT check that no newer version exists (runtime.store.inserts).
_latest: dict[str, tuple[int, int, int]] = {}


def version_to_start(*, process_key: str, number: int | None = None,
                     trust_cache: bool = False) -> tuple[ProcessVersion | None, VersionGuard | None]:
    """The latest (or the numbered) version of a process, with only id, number and
    definition loaded, and the guard its instance's INSERT must check (or None).

    With ``trust_cache`` on PostgreSQL, the latest version this process saw is used without
    a query, and the guard says which version the INSERT must find to still be the newest:
    the start costs no round trip for it, and a deploy from any process is still seen by
    the next start (a stale guard fails the INSERT; the caller retries with a lookup).
    A numbered version is immutable and needs no guard.
    """
    if number is None and trust_cache and process_key in _latest and on_postgresql():
        pk, found_number, definition_id = _latest[process_key]
        return _stored_version(pk, found_number, definition_id), VersionGuard(process_key, pk)
    version, definition = ProcessVersion._meta.db_table, ProcessVersion._meta.get_field("definition").related_model._meta.db_table
    sql = (f'SELECT v."id", v."number", v."definition_id" FROM "{version}" v JOIN "{definition}" d '
           f'ON d."id" = v."definition_id" WHERE d."key" = %s')
    params: list = [process_key]
    if number is not None:
        sql += ' AND v."number" = %s'
        params.append(number)
    with connection.cursor() as cursor:  # plain SQL: every start that is not cached runs it
        cursor.execute(sql + ' ORDER BY v."number" DESC LIMIT 1', params)
        found = cursor.fetchone()
    if found is None:
        return None, None
    if number is None:
        _latest[process_key] = found
    return _stored_version(*found), None


_stored_versions: dict[tuple[int, int, int], ProcessVersion] = {}


def _stored_version(pk: int, number: int, definition_id: int) -> ProcessVersion:
    """A version as stored, with only id, number and definition loaded: a copy of the one
    made the first time (a model's ``__init__`` goes through every field, once per start)."""
    key = (pk, number, definition_id)
    version = _stored_versions.get(key)
    if version is None:
        version = ProcessVersion(id=pk, number=number, definition_id=definition_id)
        version._state.adding, version._state.db = False, DEFAULT_DB_ALIAS
        _stored_versions[key] = version
    return twin(version)


def forget_latest(process_key: str) -> None:
    _latest.pop(process_key, None)


def latest_versions() -> QuerySet[ProcessVersion]:
    newest = ProcessVersion.objects.filter(definition=OuterRef("definition")).order_by("-number").values("pk")[:1]
    return ProcessVersion.objects.filter(pk=Subquery(newest)).only("id", "definition_id", "number")


_start_cache: dict[int, list[tuple[str, str, str]]] = {}
_start_lock = threading.Lock()


def _start_events_of(version_id: int) -> list[tuple[str, str, str]]:
    """(node id, kind, name) of a version's message/signal/timer start events; cached
    forever because versions are immutable."""
    found = _start_cache.get(version_id)
    if found is None:
        graph = graph_for(version_id)
        found = []
        for node in graph.start_events(None):
            kind = node.event_kind
            if kind in ("message", "signal"):
                found.append((node.id, kind, node.event.get(kind) or ""))
            elif kind == "timer":
                found.append((node.id, kind, ""))
        with _start_lock:
            _start_cache[version_id] = found
    return found


def start_events(*, kind: str, name: str | None = None) -> list[tuple[int, str]]:
    """(version id, start event id) of latest versions starting on a ``kind`` event."""
    out = []
    for version in latest_versions().order_by("definition__key"):
        for node_id, node_kind, node_name in _start_events_of(version.pk):
            if node_kind == kind and (name is None or node_name == name):
                out.append((version.pk, node_id))
    return out
