"""Writes of the runtime: start and operate instances, work human tasks, correlate
messages, broadcast signals. Keyword-only; each call is one transaction (or a few short
ones) through the store, and raises a ``RuntimeServiceError`` subclass the API maps to an
HTTP status (NotFound 404, PermissionDenied 403, Conflict 409, TaskFormInvalid 400).

The engine-driving internals called by Celery tasks (timers, service calls,
continuations, thrown messages) live in runtime/workers.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q

from designer.models import ProcessVersion
from runtime import permissions, selectors
from runtime import transitions as tt
from runtime.engine import events as ev
from runtime.forms_validation import FormInvalid, validate_submission
from runtime.models import (Continuation, HumanTask, HumanTaskState, Incident, IncidentState, InstanceStatus,
                            MessageSubscription, ProcessInstance, ServiceCall, ServiceCallState, SubscriptionKind)
from runtime.store import UnitOfWork, correlation_value, event_from_dict, graph_for
from runtime.store.inserts import StaleVersion
from runtime.store.flight import NeedsTransaction, can_fly, only_the_flight_writes


class RuntimeServiceError(Exception):
    status = 400


class NotFound(RuntimeServiceError):
    status = 404


class PermissionDenied(RuntimeServiceError):
    status = 403


class Conflict(RuntimeServiceError):
    """The target is in a state that does not allow the operation (already completed...)."""

    status = 409


class InvalidInput(RuntimeServiceError):
    status = 400


class TaskFormInvalid(InvalidInput):
    """The submitted values do not fit the task's form; ``errors`` maps field key -> messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(str(FormInvalid(errors)))


class MessageNotCorrelated(NotFound):
    """Nothing waits for the message and no process starts with it."""


def actor_of(user) -> str:
    return user.get_username() if user is not None and getattr(user, "is_authenticated", False) else ""


def _check_variables(variables: Any) -> dict:
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise InvalidInput("variables must be a JSON object")
    bad = [k for k in variables if not isinstance(k, str) or not k.isidentifier() or k.startswith("_")]
    if bad:
        raise InvalidInput(f"variable names must be identifiers not starting with '_': {', '.join(map(str, bad))}")
    return dict(variables)


# -- instances -------------------------------------------------------------------------

def instance_start(*, process_key: str, version: int | None = None, variables: dict | None = None,
                   business_key: str = "", user=None) -> ProcessInstance:
    """Start an instance of the latest (or the given) version at its none start event.

    ``initiator`` is set to the starting user's name unless the caller passed one, so a
    user task may say ``flowyard:assignee="=initiator"``.
    """
    variables = _check_variables(variables)
    if user is not None and getattr(user, "is_authenticated", False):
        variables.setdefault("initiator", user.get_username())
    trust_cache = True
    while True:
        try:
            return _start(process_key, version, variables, business_key, user, trust_cache=trust_cache)
        except StaleVersion:  # a newer version was deployed since this process cached the latest
            selectors.forget_latest(process_key)
            trust_cache = False


def _start(process_key, version, variables, business_key, user, *, trust_cache: bool) -> ProcessInstance:
    """One start. On PostgreSQL with no transaction open yet, the run begins outside one: a
    process that runs straight to its end is then one INSERT of the instance with its
    history, committing by itself (one round trip); one that stops at service calls one
    statement with its tokens and calls too (``runtime.store.flight``); any other opens the
    transaction at its first write and goes on from there (``UnitOfWork.outside_transaction``)."""
    if not can_fly():
        with transaction.atomic():  # the version lookup too: a start is one transaction, not two
            uow, instance = _prepare_start(process_key, version, variables, business_key, user, trust_cache)
            uow.feed(instance, ev.Start(variables=variables))
            uow.commit()
        return instance
    uow, instance = _prepare_start(process_key, version, variables, business_key, user, trust_cache)
    uow.outside_transaction = True
    try:
        with only_the_flight_writes(uow):
            uow.feed(instance, ev.Start(variables=variables))
            uow.commit()
    except NeedsTransaction:
        if not uow.can_resume:  # failed at a node, or a flight met a write of its own: start over in one
            with transaction.atomic():
                return _start(process_key, version, variables, business_key, user, trust_cache=trust_cache)
        with transaction.atomic():
            uow.resume()
            uow.commit()
    return instance


def _prepare_start(process_key, version, variables, business_key, user, trust_cache):
    target, guard = selectors.version_to_start(process_key=process_key, number=version, trust_cache=trust_cache)
    if target is None:
        raise NotFound(f"no deployed process {process_key!r}" + (f" version {version}" if version is not None else ""))
    try:
        graph = graph_for(target.pk)
    except ProcessVersion.DoesNotExist:
        if guard is None:
            raise
        raise StaleVersion from None  # the cached version is gone (only a test database rolls back)
    if graph.none_start(None) is None:
        raise Conflict(f"process {process_key!r} has no none start event; start it with its message or timer")
    uow = UnitOfWork(actor=actor_of(user))
    uow.version_guard = guard
    instance = uow.create_instance(version=target, variables=variables, business_key=business_key or "",
                                   started_by_id=user.pk if actor_of(user) else None, insert_at_commit=True)
    return uow, instance


def _operate(instance: ProcessInstance | int, user) -> tuple[UnitOfWork, ProcessInstance]:
    if not permissions.can_operate_instance(user, instance):
        raise PermissionDenied("only operators may change running instances")
    uow = UnitOfWork(actor=actor_of(user))
    pk = instance.pk if isinstance(instance, ProcessInstance) else instance
    try:
        return uow, uow.lock(pk)
    except ProcessInstance.DoesNotExist:
        raise NotFound(f"no instance #{pk}") from None


def _refresh(target, locked: ProcessInstance) -> ProcessInstance:
    if isinstance(target, ProcessInstance) and target is not locked:
        target.refresh_from_db()
        return target
    return locked


def instance_cancel(*, instance: ProcessInstance | int, user=None, reason: str = "") -> ProcessInstance:
    with transaction.atomic():
        uow, locked = _operate(instance, user)
        if not locked.is_active:
            raise Conflict(f"instance #{locked.pk} is {locked.status}")
        uow.feed(locked, ev.Cancel(reason=reason or (f"cancelled by {actor_of(user)}" if user else "cancelled")))
        uow.commit()
    return _refresh(instance, locked)


def instance_compensate(*, instance: ProcessInstance | int, user=None, reason: str = "") -> ProcessInstance:
    """Roll back a running instance as a saga: compensate its completed steps in reverse."""
    with transaction.atomic():
        uow, locked = _operate(instance, user)
        if locked.status != InstanceStatus.RUNNING:
            raise Conflict(f"instance #{locked.pk} is {locked.status}")
        uow.feed(locked, ev.Compensate(reason=reason))
        uow.commit()
    return _refresh(instance, locked)


def instance_suspend(*, instance: ProcessInstance | int, user=None) -> ProcessInstance:
    """Freeze an instance: its tasks cannot be completed and events that reach it wait."""
    with transaction.atomic():
        uow, locked = _operate(instance, user)
        if locked.status != InstanceStatus.RUNNING:
            raise Conflict(f"only running instances can be suspended; #{locked.pk} is {locked.status}")
        tt.advance(tt.INSTANCE, locked, InstanceStatus.SUSPENDED, field="status", type="instance.status",
                   history=uow.history(locked))
        uow.dirty.add(locked.pk)
        uow.commit()
    return _refresh(instance, locked)


def instance_resume(*, instance: ProcessInstance | int, user=None) -> ProcessInstance:
    """Thaw an instance: apply the events that waited, re-send calls held back."""
    with transaction.atomic():
        uow, locked = _operate(instance, user)
        if locked.status != InstanceStatus.SUSPENDED:
            raise Conflict(f"only suspended instances can be resumed; #{locked.pk} is {locked.status}")
        tt.advance(tt.INSTANCE, locked, InstanceStatus.RUNNING, field="status", type="instance.status",
                   history=uow.history(locked))
        uow.dirty.add(locked.pk)
        apply_continuations(uow, locked)
        for call_id in ServiceCall.objects.filter(instance=locked, state=ServiceCallState.PENDING).values_list("pk", flat=True):
            uow.wakeups.add("service_call_execute_task", call_id)
        uow.commit()
    return _refresh(instance, locked)


def apply_continuations(uow: UnitOfWork, instance: ProcessInstance, *, only_cancel: bool = False) -> int:
    """Feed the instance the events others left for it, oldest first, and drop them."""
    rows = list(Continuation.objects.filter(instance=instance, kind=Continuation.Kind.EVENT).order_by("id"))
    if only_cancel:
        rows = [r for r in rows if r.event.get("type") == "Cancel"]
    if not rows:
        return 0
    Continuation.objects.filter(pk__in=[r.pk for r in rows]).delete()
    for row in rows:
        uow.feed(instance, event_from_dict(row.event))
    return len(rows)


def instance_retry(*, instance: ProcessInstance | int, user=None) -> int:
    """Retry every open incident: re-run exhausted service calls from a fresh attempt
    budget (same idempotency key), re-run engine events that failed. Returns how many."""
    with transaction.atomic():
        uow, locked = _operate(instance, user)
        if not locked.is_active:
            raise Conflict(f"instance #{locked.pk} is {locked.status}")
        incidents = list(Incident.objects.select_for_update().filter(instance=locked, state=IncidentState.OPEN))
        if not incidents:
            raise Conflict(f"instance #{locked.pk} has no open incident")
        replay = []
        for incident in incidents:
            uow.resolve_incident(incident, note="retried", user=user if actor_of(user) else None)
            call = incident.service_call
            if call is not None and call.state == ServiceCallState.INCIDENT:
                tt.advance(tt.SERVICE_CALL, call, ServiceCallState.PENDING, history=uow.history(locked),
                           node=call.node_id, token=call.token_id, data={"call": call.pk, "retry": True})
                call.attempt = 0
                call.next_attempt_at = call.dispatched_at = uow.now
                call.save(update_fields=["state", "attempt", "next_attempt_at", "dispatched_at"])
                uow.wakeups.add("service_call_execute_task", call.pk)
            elif incident.event:
                replay.append(event_from_dict(incident.event))
        for event in replay:
            uow.feed(locked, event)
        uow.commit()
    return len(incidents)


# -- human tasks -------------------------------------------------------------------------

def _lock_task(task: HumanTask | int, user) -> tuple[UnitOfWork, ProcessInstance, HumanTask]:
    pk = task.pk if isinstance(task, HumanTask) else task
    instance_id = HumanTask.objects.filter(pk=pk).values_list("instance_id", flat=True).first()
    if instance_id is None:
        raise NotFound(f"no task #{pk}")
    uow = UnitOfWork(actor=actor_of(user))
    instance = uow.lock(instance_id)  # instance first, then its rows: the one lock order
    locked = HumanTask.objects.select_for_update().get(pk=pk)
    return uow, instance, locked


def _sync(target, locked: HumanTask) -> HumanTask:
    if isinstance(target, HumanTask) and target is not locked:
        target.refresh_from_db()
        return target
    return locked


def task_claim(*, task: HumanTask | int, user) -> HumanTask:
    with transaction.atomic():
        uow, instance, locked = _lock_task(task, user)
        if not permissions.can_view_task(user, locked) or not permissions.can_claim(user, locked):
            raise PermissionDenied("you are not a candidate for this task")
        if locked.state != HumanTaskState.OPEN:
            who = locked.assignee.get_username() if locked.assignee_id else "nobody"
            raise Conflict(f"task #{locked.pk} is {locked.state} (assignee: {who})")
        tt.advance(tt.HUMAN_TASK, locked, HumanTaskState.CLAIMED, history=uow.history(instance), node=locked.node_id,
                   token=locked.token_id, data={"task": locked.pk, "assignee": actor_of(user)})
        locked.assignee = user
        locked.claimed_at = uow.now
        locked.save(update_fields=["state", "assignee", "claimed_at"])
        uow.task_changed(locked)
        uow.commit()
    return _sync(task, locked)


def task_unclaim(*, task: HumanTask | int, user) -> HumanTask:
    with transaction.atomic():
        uow, instance, locked = _lock_task(task, user)
        if not permissions.can_unclaim(user, locked):
            raise PermissionDenied("only the assignee may give this task back")
        if locked.state != HumanTaskState.CLAIMED:
            raise Conflict(f"task #{locked.pk} is {locked.state}")
        previous = locked.assignee_id
        tt.advance(tt.HUMAN_TASK, locked, HumanTaskState.OPEN, history=uow.history(instance), node=locked.node_id,
                   token=locked.token_id, data={"task": locked.pk, "previous_assignee": previous})
        locked.assignee = None
        locked.claimed_at = None
        locked.save(update_fields=["state", "assignee", "claimed_at"])
        uow.task_changed(locked, also_users=[previous] if previous else ())
        uow.commit()
    return _sync(task, locked)


def task_complete(*, task: HumanTask | int, user, variables: dict | None = None) -> HumanTask:
    """Validate the submission against the form, complete the task, move the instance on.

    Completing a task that is no longer active (twice, or after the instance moved on) is
    recorded in the instance history as ignored and raises Conflict: never a second effect.
    """
    stale = None
    with transaction.atomic():
        uow, instance, locked = _lock_task(task, user)
        if not permissions.can_view_task(user, locked):
            raise PermissionDenied("this task is not yours")
        if not locked.is_active:
            stale = f"task #{locked.pk} is already {locked.state}"
            uow.history(instance).add("event.ignored", node=locked.node_id, token=locked.token_id,
                                      data={"event": "TaskCompleted", "task": locked.pk, "reason": stale})
            uow.commit()  # the refusal is recorded; Conflict is raised after the commit
        else:
            _complete_locked(uow, instance, locked, user, variables)
    if stale:
        raise Conflict(stale)
    return _sync(task, locked)


def _complete_locked(uow: UnitOfWork, instance: ProcessInstance, locked: HumanTask, user, variables) -> None:
    if not permissions.can_complete(user, locked):
        raise PermissionDenied("claim the task first, or it is assigned to someone else")
    if instance.status == InstanceStatus.SUSPENDED:
        raise Conflict(f"instance #{instance.pk} is suspended")
    try:
        cleaned = validate_submission(locked.form, variables)
    except FormInvalid as exc:
        raise TaskFormInvalid(exc.errors) from None
    tt.advance(tt.HUMAN_TASK, locked, HumanTaskState.COMPLETED, history=uow.history(instance), node=locked.node_id,
               token=locked.token_id, data={"task": locked.pk, "variables": sorted(cleaned)})
    if locked.assignee_id is None:
        locked.assignee = user
    locked.completed_by = user
    locked.completed_at = uow.now
    locked.submitted = cleaned
    locked.save(update_fields=["state", "assignee", "completed_by", "completed_at", "submitted"])
    uow.task_changed(locked)
    uow.feed(instance, ev.TaskCompleted(wait_id=locked.wait_id, variables=cleaned))
    uow.commit()


# -- messages and signals ----------------------------------------------------------------

@dataclass
class Correlation:
    matched: list[ProcessInstance] = field(default_factory=list)
    started: list[ProcessInstance] = field(default_factory=list)

    @property
    def instance(self) -> ProcessInstance:
        return (self.matched or self.started)[0]


MAX_CANDIDATES = 50


def message_correlate(*, name: str, correlation_key: Any = None, variables: dict | None = None,
                      business_key: str = "", user=None) -> Correlation:
    """Deliver a message to the oldest subscription waiting for it (name + correlation
    value; a subscription without a key takes any), else start every process whose latest
    version has a message start event of that name. Raises MessageNotCorrelated."""
    variables = _check_variables(variables)
    key = correlation_value(correlation_key)
    subs = MessageSubscription.objects.filter(kind=SubscriptionKind.MESSAGE, name=name,
                                              instance__status=InstanceStatus.RUNNING)
    subs = subs.filter(Q(correlation=key) | Q(correlation__isnull=True)) if key is not None else subs.filter(correlation__isnull=True)
    result = Correlation()
    for sub_id, instance_id, wait_id in subs.order_by("created_at", "id").values_list("pk", "instance_id", "wait_id")[:MAX_CANDIDATES]:
        with transaction.atomic():
            uow = UnitOfWork(actor=actor_of(user))
            instance = uow.lock(instance_id)
            # A concurrent correlation may have consumed this wait while we waited for the lock.
            if instance.status != InstanceStatus.RUNNING or not MessageSubscription.objects.filter(pk=sub_id).exists():
                continue
            outcome = uow.feed(instance, ev.MessageReceived(wait_id=wait_id, name=name, correlation_key=correlation_key,
                                                            variables=variables))
            uow.commit()
        if outcome.ignored is None:
            result.matched.append(instance)
            return result
    for version_id, node_id in selectors.start_events(kind="message", name=name):
        result.started.append(_start_at(version_id, node_id, variables, business_key, user))
    if not result.started:
        raise MessageNotCorrelated(f"nothing waits for message {name!r}" +
                                   (f" with correlation key {correlation_key!r}" if correlation_key is not None else ""))
    return result


def _start_at(version_id: int, node_id: str, variables: dict, business_key: str, user) -> ProcessInstance:
    with transaction.atomic():
        uow = UnitOfWork(actor=actor_of(user))
        version = ProcessVersion.objects.only("id").get(pk=version_id)
        instance = uow.create_instance(version=version, variables=variables, business_key=business_key,
                                       started_by_id=user.pk if actor_of(user) else None)
        uow.feed(instance, ev.Start(variables=variables, node=node_id))
        uow.commit()
    return instance


def signal_broadcast(*, name: str, variables: dict | None = None, user=None,
                     exclude_instance_id: int | None = None) -> Correlation:
    """Trigger every signal wait named ``name`` (each instance in its own transaction) and
    start every latest version with a signal start event of that name."""
    variables = _check_variables(variables)
    instance_ids = (MessageSubscription.objects.filter(kind=SubscriptionKind.SIGNAL, name=name)
                    .exclude(instance_id=exclude_instance_id).values_list("instance_id", flat=True).distinct())
    result = Correlation()
    for instance_id in sorted(set(instance_ids)):
        with transaction.atomic():
            uow = UnitOfWork(actor=actor_of(user))
            instance = uow.lock(instance_id)
            outcome = uow.feed(instance, ev.SignalReceived(name=name, variables=variables))
            uow.commit()
        if outcome.ignored is None:
            result.matched.append(instance)
    for version_id, node_id in selectors.start_events(kind="signal", name=name):
        result.started.append(_start_at(version_id, node_id, variables, "", user))
    return result

