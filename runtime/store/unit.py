"""The unit of work: everything one transaction does to instances.

A service opens a transaction, locks the instance row (``lock``), feeds engine events
(``feed``) and calls ``commit()`` before the transaction ends. In between the unit runs the
core to the next wait state, mirrors tokens and waits into rows, numbers history, and
collects wake-ups and live pushes that are sent only after the commit.

Lock discipline, to rule out deadlocks between instances: a transaction holds at most one
*existing* instance lock. Work for another existing instance (a child ending, a parent
cancelling, a thrown message) is written as a ``Continuation`` row and delivered by its own
task. Instances created inside the transaction (call-activity children, message starts) are
invisible to everyone else until commit, so they run inline in the same loop.
"""
from __future__ import annotations

import functools
import json
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.db.models.signals import post_init
from django.utils import timezone

from designer.models import ProcessVersion
from runtime import transitions as tt
from runtime.engine import events as ev
from runtime.engine import run
from runtime.engine.errors import Deadlock, EngineError, StepLimitExceeded
from runtime.engine.state import ENDED, STATE_FORMAT, InstanceState
from runtime.live import PushBatch, group_group, instance_group, user_group, version_group
from runtime.models import (Continuation, HumanTask, Incident, IncidentState, InstanceStatus,
                            ProcessInstance, ServiceCall, ServiceCallState, TaskCandidateGroup, TaskCandidateUser)
from runtime.store.events import describe, event_to_dict
from runtime.store.graphs import graph_for
from runtime.store.flight import Flight, NeedsTransaction
from runtime.store.history import HistoryBuffer
from runtime.store.history import write as write_history
from runtime.store.inserts import VersionGuard, insert_instance, twin, update_instance
from runtime.store.rows import RowWriter, token_snapshot
from runtime.store.wakeups import Wakeups

MAX_INLINE_CHILDREN = 200  # a process that calls itself forever fails instead of looping
OUTBOUND_TASKS = {Continuation.Kind.PUBLISH_MESSAGE: "message_publish_task", Continuation.Kind.THROW_SIGNAL: "signal_throw_task"}
#: commands that write no row of their own: a new instance can wait for commit to be inserted
ROWLESS_COMMANDS = {"instance_status_changed"}
#: commands whose rows a new instance's flight writes with it (``runtime.store.flight``)
FLIGHT_COMMANDS = ROWLESS_COMMANDS | {"schedule_service_call"}
NORMAL_ENDS = {InstanceStatus.COMPLETED, InstanceStatus.TERMINATED, InstanceStatus.COMPENSATED}


def new_id() -> str:
    return uuid.uuid4().hex[:12]


@functools.cache
def _blank_instance() -> ProcessInstance:
    """A new instance with every field at its default, made once; ``create_instance``
    copies it and sets what a start decides (``Model.__init__`` walks every field)."""
    return ProcessInstance()


def lock_instance(instance_id: int) -> ProcessInstance:
    """The row lock every change to an instance takes first (a no-op on SQLite, whose
    IMMEDIATE transactions already serialise writers)."""
    return ProcessInstance.objects.select_for_update().get(pk=instance_id)


@dataclass
class FeedOutcome:
    ignored: str | None = None
    deferred: bool = False
    incident: Incident | None = None


class UnitOfWork:
    def __init__(self, *, actor: str = "", now=None):
        self.actor = actor
        self.now = now or timezone.now()
        self.instances: dict[int, ProcessInstance] = {}
        self.buffers: dict[int, HistoryBuffer] = {}
        self.dirty: set[int] = set()
        self.incidents_changed: set[int] = set()
        self.queue: deque[tuple[ProcessInstance, Any]] = deque()
        self.calls: dict[tuple[int, str], Any] = {}
        self.changed_tasks: dict[int, tuple[HumanTask, set[int] | None, set[str] | None, set[int]]] = {}
        self.wakeups = Wakeups()
        self.pushes = PushBatch()
        self.children_started = 0
        self._groups: dict[str, Group] = {}
        self._running = False
        # A worker that applies a call's outcome may take the next call of the same instance
        # itself (see take_call_here): no broker hop, no separate claim transaction.
        self.run_calls_here = False
        self.call_here: ServiceCall | None = None
        #: set when the pending new instance's version came from a cache: its INSERT checks it
        self.version_guard: VersionGuard | None = None
        #: A start may run with no transaction open: if its run writes nothing but the new
        #: instance and its history, ``commit()`` is one INSERT that commits by itself. The
        #: first other write raises ``NeedsTransaction`` instead, with the step kept for
        #: ``resume()`` inside the transaction the caller then opens.
        self.outside_transaction = False
        self._stopped_step: tuple | None = None
        #: set to run the unit as one guarded statement (``runtime.store.flight``): the row
        #: writers hand their writes to it, ``commit()`` sends it
        self.flight: Flight | None = None

    # -- instances -----------------------------------------------------------------------

    def lock(self, instance_id: int) -> ProcessInstance:
        instance = self.instances.get(instance_id)
        if instance is None:
            instance = self.adopt(lock_instance(instance_id))
        return instance

    def adopt(self, instance: ProcessInstance) -> ProcessInstance:
        """Register an instance this transaction has locked or created."""
        return self.instances.setdefault(instance.pk, instance)

    def create_instance(self, *, version: ProcessVersion, variables: dict, business_key: str = "",
                        started_by_id: int | None = None, parent: ProcessInstance | None = None,
                        parent_token: str = "", parent_wait: str = "", insert_at_commit: bool = False) -> ProcessInstance:
        """A new running instance. With ``insert_at_commit`` its row is written only when a
        step first needs its id (a token, task, call or timer row) and at the latest by
        ``commit()``, with its final state: a start that runs straight to its end is one
        INSERT instead of an INSERT and an UPDATE. Until then its ``pk`` is None (one such
        instance per unit of work)."""
        instance = twin(_blank_instance())
        instance.version_id, instance._state.fields_cache["version"] = version.pk, version
        if parent is not None:
            instance.parent_id, instance._state.fields_cache["parent"] = parent.pk, parent
        instance.business_key, instance.status = business_key or "", InstanceStatus.RUNNING
        instance.variables, instance.state, instance.state_format = dict(variables), {}, STATE_FORMAT
        instance.parent_token, instance.parent_wait = parent_token, parent_wait
        instance.started_by_id, instance.started_at = started_by_id, self.now
        post_init.send(sender=ProcessInstance, instance=instance)  # as Model.__init__ ends
        if not insert_at_commit or None in self.instances:
            instance.save(force_insert=True)
        self.adopt(instance)
        self.dirty.add(instance.pk)
        return instance

    def _insert_now(self, instance: ProcessInstance, rows: list = ()) -> bool:
        """Write a new instance whose insert was put off: something is about to need its id
        (or ``commit()`` writes it, then with its numbered history ``rows``). True when
        the rows were written too."""
        wrote_rows = insert_instance(instance, rows=rows, guard=self.version_guard)
        self._keyed_by_id(instance)
        return wrote_rows

    def _keyed_by_id(self, instance: ProcessInstance) -> None:
        """The pending new instance got its id: file it (and its history) under that id."""
        self.instances[instance.pk] = self.instances.pop(None)
        if None in self.buffers:
            self.buffers[instance.pk] = self.buffers.pop(None)
        self.dirty.discard(None)
        self.dirty.add(instance.pk)

    def history(self, instance: ProcessInstance) -> HistoryBuffer:
        buf = self.buffers.get(instance.pk)
        if buf is None:
            buf = self.buffers[instance.pk] = HistoryBuffer(instance, self.actor)
        return buf

    # -- running the core ----------------------------------------------------------------

    def feed(self, instance: ProcessInstance, event: Any, *, hold_if_suspended: bool = True) -> FeedOutcome:
        """Apply ``event`` to a locked (or new) instance and everything it sets off inline.

        A suspended instance keeps new events for its resume; work that was already in
        flight when it was suspended (a service call's outcome) passes
        ``hold_if_suspended=False`` and lands at once.
        """
        self.adopt(instance)
        if (hold_if_suspended and instance.status == InstanceStatus.SUSPENDED
                and not isinstance(event, ev.Cancel)):
            self.defer(instance, event)
            return FeedOutcome(deferred=True)
        self.queue.append((instance, event))
        if self._running:  # a nested feed: the outer loop will reach it
            return FeedOutcome()
        return self._drain()

    def _drain(self, first: FeedOutcome | None = None) -> FeedOutcome:
        self._running = True
        try:
            while self.queue:
                target, event_ = self.queue.popleft()
                outcome = self._run(target, event_)
                first = first or outcome
        finally:
            self._running = False
        return first or FeedOutcome()

    @property
    def can_resume(self) -> bool:
        return self._stopped_step is not None

    def resume(self) -> FeedOutcome:
        """Go on, in the transaction now open, from the step that raised ``NeedsTransaction``."""
        self.outside_transaction = False
        instance, state, before, result = self._stopped_step
        self._stopped_step = None
        self._insert_now(instance)
        return self._drain(self._write(instance, state, before, result))

    def defer(self, instance: ProcessInstance, event: Any) -> None:
        """Keep an event for later (the instance is suspended): applied on resume."""
        Continuation.objects.create(instance=instance, event=event_to_dict(event), created_at=self.now)
        self.history(instance).add("event.deferred", data={"event": describe(event)})

    def _run(self, instance: ProcessInstance, event: Any) -> FeedOutcome:
        graph = graph_for(instance.version_id)
        # The core mutates the state it is given; work on a copy so a failing step leaves
        # the instance's last good state intact in memory as well as in the database.
        raw = json.loads(json.dumps(instance.state)) if instance.state else None
        state = InstanceState.from_dict(raw) if raw else InstanceState()
        before = token_snapshot(state)
        try:
            result = run(graph, state, event, now=self.now, new_id=new_id)
        except EngineError as exc:
            return FeedOutcome(incident=self._engine_failure(instance, exc, event))
        self.history(instance).extend_engine(result.history)
        self.dirty.add(instance.pk)
        if result.ignored:
            return FeedOutcome(ignored=result.ignored)
        instance.state = state.to_dict()
        instance.state_format = STATE_FORMAT
        instance.variables = state.variables
        if instance.pk is None and self.flight is None and (any(c.kind not in ROWLESS_COMMANDS for c in result.commands)
                                                            or token_snapshot(state) != before):
            if not self.outside_transaction:
                self._insert_now(instance)
            elif all(c.kind in FLIGHT_COMMANDS for c in result.commands):  # outside: PostgreSQL (can_fly)
                self.flight = Flight(instance, version_guard=self.version_guard)  # all of it at commit
            else:
                self._stopped_step = (instance, state, before, result)
                raise NeedsTransaction
        return self._write(instance, state, before, result)

    def _write(self, instance: ProcessInstance, state: InstanceState, before, result) -> FeedOutcome:
        if self.flight is not None and instance is not self.flight.instance:
            raise NeedsTransaction  # a second instance (a child, a parent) in one step
        writer = RowWriter(self, instance)
        writer.mirror_tokens(before, state)
        for command in result.commands:
            writer.apply(command)
        writer.flush()
        return FeedOutcome()

    def _engine_failure(self, instance: ProcessInstance, exc: EngineError, event: Any) -> Incident:
        """The model or its data broke at a node: keep the last good state, open an incident
        that remembers the event so a retry can run it again (after a fix to the data)."""
        fatal = isinstance(exc, (StepLimitExceeded, Deadlock))
        if self.outside_transaction or self.flight is not None:  # rare: the caller starts over inside a transaction
            raise NeedsTransaction
        if instance.pk is None:
            self._insert_now(instance)
        incident = self.open_incident(
            instance, node=exc.node or "", token=exc.token or "", message=exc.message[:1000],
            detail=f"{type(exc).__name__} while handling {describe(event)}", event=None if fatal else event_to_dict(event),
        )
        if fatal and instance.status not in ENDED:
            self._set_status(instance, InstanceStatus.FAILED, record=True, node=exc.node or "", message=exc.message)
        return incident

    # -- consequences the row writer hands back -------------------------------------------

    def status_changed(self, instance: ProcessInstance, command) -> None:
        # The core already wrote the instance.status history entry for this change.
        self._set_status(instance, command.new, record=False, error_code=command.error_code, message=command.message)

    def _set_status(self, instance: ProcessInstance, new: str, *, record: bool, node: str = "",
                    error_code: str | None = None, message: str = "") -> None:
        if new == instance.status or new == "new":
            return
        if record:
            tt.advance(tt.INSTANCE, instance, new, field="status", type="instance.status", history=self.history(instance),
                       node=node, data={"message": message} if message else None)
        else:
            tt.INSTANCE.check(instance.status, new)
            instance.status = new
        self.dirty.add(instance.pk)
        if new in ENDED:
            instance.ended_at = self.now
            if record and isinstance(instance.state, dict) and instance.state:
                instance.state = {**instance.state, "status": new}
            if instance.parent_id:
                self._notify_parent(instance, new, error_code, message)

    def _notify_parent(self, child: ProcessInstance, status: str, error_code: str | None, message: str) -> None:
        if status in NORMAL_ENDS:
            event = ev.ChildCompleted(wait_id=child.parent_wait, variables=dict(child.variables))
        else:
            event = ev.ChildFailed(wait_id=child.parent_wait, error_code=error_code if status == "failed" else None,
                                   message=message or f"called instance #{child.pk} ended {status}")
        parent = self.instances.get(child.parent_id)
        if parent is not None:
            self.queue.append((parent, event))
        else:
            self.continue_later(child.parent_id, event)

    def continue_later(self, instance_id: int, event: Any) -> None:
        Continuation.objects.create(instance_id=instance_id, event=event_to_dict(event), created_at=self.now,
                                    dispatched_at=self.now)
        self.wakeups.add("instance_continue_task", instance_id)

    def outbound(self, instance: ProcessInstance, payload: dict) -> None:
        row = Continuation.objects.create(instance=instance, kind=payload["type"], event=payload, created_at=self.now,
                                          dispatched_at=self.now)
        self.wakeups.add(OUTBOUND_TASKS[payload["type"]], row.pk)

    def start_child(self, parent: ProcessInstance, command) -> None:
        self.children_started += 1
        version = (ProcessVersion.objects.filter(definition__key=command.process_key).only("id", "number")
                   .order_by("-number").first()
                   if self.children_started <= MAX_INLINE_CHILDREN else None)
        if version is None:
            why = (f"no deployed process {command.process_key!r}" if self.children_started <= MAX_INLINE_CHILDREN
                   else f"more than {MAX_INLINE_CHILDREN} called instances started in one step")
            self.queue.append((parent, ev.ChildFailed(wait_id=command.wait_id, message=why)))
            return
        child = self.create_instance(version=version, variables=command.variables or {}, business_key=parent.business_key,
                                     started_by_id=parent.started_by_id, parent=parent, parent_token=command.token_id,
                                     parent_wait=command.wait_id)
        self.history(parent).add("child.started", node=command.node, token=command.token_id,
                                 data={"child": child.pk, "process": command.process_key, "version": version.number})
        self.queue.append((child, ev.Start(variables=dict(command.variables or {}))))

    def take_call_here(self, instance: ProcessInstance, calls: list[ServiceCall]) -> ServiceCall | None:
        """Pick one of the new calls (not yet inserted) for this worker to run right after
        commit, and mark it claimed: it is inserted ``running`` with attempt 1, so no
        wake-up is sent and nobody else can take it. If this worker dies before applying
        the outcome, the reconciler recovers it like any running call whose worker was lost."""
        if not self.run_calls_here or self.call_here is not None or instance.status != InstanceStatus.RUNNING:
            return None
        for call in calls:
            if call.next_attempt_at <= self.now:
                call.state, call.attempt, call.started_at = ServiceCallState.RUNNING, 1, self.now
                self.call_here = call
                return call
        return None

    def call_cancelled(self, call_id: int) -> None:
        if self.call_here is not None and self.call_here.pk == call_id:
            self.call_here = None  # cancelled later in the same transaction: nothing to run

    def cancel_child(self, parent: ProcessInstance, wait_id: str) -> None:
        reason = f"cancelled by parent instance #{parent.pk}"
        for child_id in ProcessInstance.objects.filter(parent=parent, parent_wait=wait_id).exclude(
                status__in=list(ENDED)).values_list("pk", flat=True):
            child = self.instances.get(child_id)
            if child is not None:
                self.queue.append((child, ev.Cancel(reason=reason)))
            else:
                self.continue_later(child_id, ev.Cancel(reason=reason))

    def open_incident(self, instance: ProcessInstance, *, node: str, token: str = "", message: str, wait_id: str = "",
                      error_code: str = "", detail: str = "", service_call=None, attempts: int = 0,
                      event: dict | None = None) -> Incident:
        incident = Incident.objects.create(
            instance=instance, node_id=node, token_id=token, wait_id=wait_id, error_code=error_code or "",
            message=(message or "incident")[:1000], detail=detail, service_call=service_call, attempts=attempts,
            event=event, created_at=self.now,
        )
        tt.created(tt.INCIDENT, IncidentState.OPEN, history=self.history(instance), node=node, token=token,
                   data={"incident": incident.pk, "message": incident.message, "error_code": error_code or None})
        instance.has_incident = True
        instance.incident_count += 1
        self.dirty.add(instance.pk)
        return incident

    def resolve_incident(self, incident: Incident, *, note: str, user=None) -> None:
        instance = self.instances[incident.instance_id]
        tt.advance(tt.INCIDENT, incident, IncidentState.RESOLVED, history=self.history(instance), node=incident.node_id,
                   token=incident.token_id, data={"incident": incident.pk, "note": note},
                   actor=user.get_username() if user is not None else "")
        incident.resolved_at = self.now
        incident.resolved_by = user
        incident.save(update_fields=["state", "resolved_at", "resolved_by"])
        self.incidents_changed.add(instance.pk)

    def task_changed(self, task: HumanTask, *, user_ids: list[int] | None = None,
                     group_names: list[str] | None = None, also_users=()) -> None:
        """Push the task's new state to its instance, assignee and candidates after commit
        (candidates are looked up at commit when the caller does not know them)."""
        self.changed_tasks[task.pk] = (task, set(user_ids) if user_ids is not None else None,
                                       set(group_names) if group_names is not None else None, set(also_users))

    def groups_named(self, names: set[str]) -> dict[str, Group]:
        missing = names - set(self._groups)
        if missing:
            found = {g.name: g for g in Group.objects.filter(name__in=missing)}
            absent = missing - set(found)
            if absent:  # a lane or candidateGroups name nobody created yet: make the group
                Group.objects.bulk_create([Group(name=n) for n in sorted(absent)], ignore_conflicts=True)
                found.update({g.name: g for g in Group.objects.filter(name__in=absent)})
            self._groups.update(found)
        return {n: self._groups[n] for n in names if n in self._groups}

    # -- commit --------------------------------------------------------------------------

    def commit(self) -> None:
        """Write history and instance rows (or send the flight that carries them); schedule
        wake-ups and pushes for after commit."""
        rows: list = []
        flight = self.flight
        pending = self.instances.get(None)
        if pending is not None:  # a start that never needed its id: one INSERT with its history
            buf = self.buffers.pop(None, None)
            numbered = buf.number() if buf is not None else []
            if flight is not None:
                rows += numbered
            elif not self._insert_now(pending, rows=numbered):
                rows += numbered
        touched = []
        for pk, instance in self.instances.items():
            if pk in self.incidents_changed:
                instance.has_incident = Incident.objects.filter(instance_id=pk, state=IncidentState.OPEN).exists()
                self.dirty.add(pk)
            buf = self.buffers.get(pk)
            if buf is not None and buf.rows:
                rows += buf.number()
                self.dirty.add(pk)
            if pk in self.dirty:
                touched.append(instance)
        if flight is not None:
            for instance in touched:
                flight.update_instance(instance)
            flight.history(rows)
            flight.send()  # FlightConflict, StaleVersion: nothing written, nothing pushed or sent
            if pending is not None:
                self._keyed_by_id(pending)
        else:
            for instance in touched:
                if instance is not pending:
                    update_instance(instance)
            write_history(rows)
        for instance in touched:
            self.pushes.add([instance_group(instance.pk), version_group(instance.version_id)], {
                "type": "instance", "instance": instance.pk, "version": instance.version_id, "seq": instance.history_seq,
                "status": instance.status, "has_incident": instance.has_incident,
            })
        self._task_pushes()
        self.dirty.clear()
        self.pushes.send_on_commit()
        self.wakeups.send_on_commit()

    def _task_pushes(self) -> None:
        if not self.changed_tasks:
            return
        unknown = [pk for pk, (_, users, groups, _) in self.changed_tasks.items() if users is None or groups is None]
        users_of: dict[int, set[int]] = {}
        groups_of: dict[int, set[str]] = {}
        if unknown:
            for task_id, user_id in TaskCandidateUser.objects.filter(task_id__in=unknown).values_list("task_id", "user_id"):
                users_of.setdefault(task_id, set()).add(user_id)
            for task_id, name in TaskCandidateGroup.objects.filter(task_id__in=unknown).values_list("task_id", "group__name"):
                groups_of.setdefault(task_id, set()).add(name)
        for pk, (task, users, groups, also) in self.changed_tasks.items():
            users = (users if users is not None else users_of.get(pk, set())) | also
            groups = groups if groups is not None else groups_of.get(pk, set())
            recipients = {user_group(u) for u in users} | {group_group(g) for g in groups}
            if task.assignee_id:
                recipients.add(user_group(task.assignee_id))
            instance = self.instances.get(task.instance_id)
            self.pushes.add(sorted(recipients | {instance_group(task.instance_id)}), {
                "type": "task", "task": pk, "instance": task.instance_id, "state": task.state,
                "assignee": task.assignee_id, "seq": instance.history_seq if instance else None,
            })
        self.changed_tasks.clear()
