"""Mirror one engine step into rows: tokens, and the waits its commands open or close.

Creations are buffered and written with one bulk insert per table at the end of the step;
closings update the few rows they name at once, so a wait opened and closed in two steps
of the same transaction always finds its row.
"""
from __future__ import annotations

import datetime as _dt
import json
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from runtime import transitions as tt
from runtime.connectors.retry import duration_seconds
from runtime.models import (HumanTask, HumanTaskState, Incident, IncidentState, MessageSubscription, ServiceCall,
                            ServiceCallState, SubscriptionKind, TaskCandidateGroup, TaskCandidateUser, TimerJob,
                            TimerState, Token)
from runtime.store.flight import NeedsTransaction, reserve_call_ids
from runtime.store.inserts import insert_calls, move_token

if TYPE_CHECKING:
    from runtime.engine.state import InstanceState
    from runtime.models import ProcessInstance
    from runtime.store.unit import UnitOfWork

DEFAULT_PRIORITY = 50
DEFAULT_TIMEOUT = 30.0
ACTIVE_CALL_STATES = (ServiceCallState.PENDING, ServiceCallState.RUNNING, ServiceCallState.INCIDENT)


def correlation_value(value: Any) -> str | None:
    """Normalise a correlation key so 42 and "42" match; None means "any"."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _loop_data(data: dict) -> dict:
    return {k: data[k] for k in ("mi", "mi_instance") if k in data}


def token_snapshot(state: "InstanceState") -> dict[str, tuple]:
    return {tid: (t.node, t.status, t.scope, _loop_data(t.data)) for tid, t in state.tokens.items()}


class RowWriter:
    """Applies one step's commands for one instance; ``flush()`` writes the buffered rows."""

    def __init__(self, uow: "UnitOfWork", instance: "ProcessInstance"):
        self.uow = uow
        self.instance = instance
        self.history = uow.history(instance)
        self.tasks: list[tuple[HumanTask, list[str], list[str]]] = []
        self.calls: list[ServiceCall] = []
        self.timers: list[TimerJob] = []
        self.subscriptions: list[MessageSubscription] = []

    # -- tokens ------------------------------------------------------------------------

    def mirror_tokens(self, before: dict[str, tuple], state: "InstanceState") -> None:
        """Delete rows of tokens that ended or changed, insert rows for new or changed ones.

        The most common step, one token moving on to its next wait, is a single UPDATE.
        """
        after = token_snapshot(state)
        gone = [tid for tid, snap in before.items() if after.get(tid) != snap]
        for tid in gone:
            if tid in after:
                tt.TOKEN.check(before[tid][1], after[tid][1])
        if self.uow.flight is not None:
            self._fly_tokens(self.uow.flight, before, after, gone)
            return
        if len(gone) == 1 and gone[0] in after and all(tid in before for tid in after):
            tid = gone[0]
            node, status, scope, loop = after[tid]
            if move_token(instance_id=self.instance.pk, token_id=tid, node=node, state=status, scope=scope or "",
                          loop=loop, since=self.uow.now):
                return
        if gone:
            Token.objects.filter(instance=self.instance, token_id__in=gone).delete()
        fresh = [
            Token(instance=self.instance, token_id=tid, node_id=node, state=status, scope=scope or "", loop=loop,
                  since=self.uow.now)
            for tid, (node, status, scope, loop) in after.items() if before.get(tid) != (node, status, scope, loop)
        ]
        if fresh:
            Token.objects.bulk_create(fresh)

    def _fly_tokens(self, flight, before: dict, after: dict, gone: list[str]) -> None:
        """``mirror_tokens`` for a flight: moves, drops and new tokens become its parts."""
        pk, since = self.instance.pk, self.uow.now
        dropped = [tid for tid in gone if tid not in after]
        if dropped:
            flight.drop_tokens(pk, dropped)
        for tid, (node, status, scope, loop) in after.items():
            if tid not in before:
                flight.insert_token(instance_id=pk, token_id=tid, node=node, state=status, scope=scope or "",
                                    loop=loop, since=since)
            elif before[tid] != after[tid]:
                flight.move_token(instance_id=pk, token_id=tid, node=node, state=status, scope=scope or "",
                                  loop=loop, since=since)

    # -- commands ----------------------------------------------------------------------

    def apply(self, command) -> None:
        getattr(self, "on_" + command.kind)(command)

    def on_create_human_task(self, c) -> None:
        task = HumanTask(
            instance=self.instance, wait_id=c.wait_id, token_id=c.token_id, node_id=c.node, name=c.name or c.node,
            form=c.form or [], context={"data": c.data or {}}, due_at=c.due_date,
            priority=DEFAULT_PRIORITY if c.priority is None else int(c.priority), created_at=self.uow.now,
        )
        if c.assignee:
            task.context["assignee"] = str(c.assignee)
        self.tasks.append((task, [str(u) for u in c.candidate_users or []], [str(g) for g in c.candidate_groups or []]))

    def on_cancel_human_task(self, c) -> None:
        for task in HumanTask.objects.filter(instance=self.instance, wait_id=c.wait_id,
                                             state__in=(HumanTaskState.OPEN, HumanTaskState.CLAIMED)):
            tt.advance(tt.HUMAN_TASK, task, HumanTaskState.CANCELLED, history=self.history, node=task.node_id,
                       token=task.token_id, data={"task": task.pk})
            task.save(update_fields=["state"])
            self.uow.task_changed(task)

    def on_schedule_service_call(self, c) -> None:
        connector = c.connector or ("python" if c.handler else "http")
        config = dict(c.http or {}) if connector == "http" else {"handler": c.handler} if c.handler else dict(c.http or {})
        try:
            timeout = duration_seconds(c.timeout, "PT30S")
        except ValueError:
            timeout = DEFAULT_TIMEOUT
        request = {
            "connector": connector, "config": config, "inputs": c.inputs or {}, "timeout": timeout,
            "result_variable": c.result_variable,
            "policy": {"retries": c.retries, "retry_backoff": c.retry_backoff,
                       "backoff_coefficient": c.backoff_coefficient, "max_interval": c.max_interval},
        }
        self.calls.append(ServiceCall(
            instance=self.instance, wait_id=c.wait_id, token_id=c.token_id, node_id=c.node,
            idempotency_key=f"{self.instance.pk}:{c.wait_id}", request=request,
            max_attempts=1 + max(0, int(c.retries if c.retries is not None else 3)),
            next_attempt_at=self.uow.now, created_at=self.uow.now, dispatched_at=self.uow.now,
        ))

    def on_cancel_service_call(self, c) -> None:
        for call in ServiceCall.objects.filter(instance=self.instance, wait_id=c.wait_id, state__in=ACTIVE_CALL_STATES):
            tt.advance(tt.SERVICE_CALL, call, ServiceCallState.CANCELLED, history=self.history, node=call.node_id,
                       token=call.token_id, data={"call": call.pk})
            self.uow.call_cancelled(call.pk)
            call.finished_at = self.uow.now
            call.save(update_fields=["state", "finished_at"])
            self.resolve_incidents(Q(service_call=call) | Q(wait_id=c.wait_id), note="call cancelled")

    def on_schedule_timer(self, c) -> None:
        self.timers.append(TimerJob(
            version_id=self.instance.version_id, instance=self.instance, wait_id=c.wait_id, token_id=c.token_id,
            node_id=c.node, due_at=c.due_at, timer=c.timer or {}, created_at=self.uow.now,
        ))

    def on_cancel_timer(self, c) -> None:
        for job in TimerJob.objects.filter(instance=self.instance, wait_id=c.wait_id, state=TimerState.SCHEDULED):
            tt.advance(tt.TIMER_JOB, job, TimerState.CANCELLED, history=self.history, node=job.node_id,
                       token=job.token_id, data={"timer": job.pk})
            job.save(update_fields=["state"])

    def on_subscribe_message(self, c) -> None:
        self.subscriptions.append(MessageSubscription(
            instance=self.instance, wait_id=c.wait_id, token_id=c.token_id, node_id=c.node,
            kind=SubscriptionKind.MESSAGE, name=c.name, correlation=correlation_value(c.correlation_key),
            created_at=self.uow.now,
        ))

    def on_subscribe_signal(self, c) -> None:
        self.subscriptions.append(MessageSubscription(
            instance=self.instance, wait_id=c.wait_id, token_id=c.token_id, node_id=c.node,
            kind=SubscriptionKind.SIGNAL, name=c.name, created_at=self.uow.now,
        ))

    def on_unsubscribe(self, c) -> None:
        MessageSubscription.objects.filter(instance=self.instance, wait_id=c.wait_id).delete()

    def on_publish_message(self, c) -> None:
        self.uow.outbound(self.instance, {"type": "publish_message", "name": c.name, "correlation_key": c.correlation_key,
                                          "variables": c.variables or {}, "node": c.node})

    def on_throw_signal(self, c) -> None:
        self.uow.outbound(self.instance, {"type": "throw_signal", "name": c.name, "variables": c.variables or {},
                                          "node": c.node})

    def on_start_child_instance(self, c) -> None:
        self.uow.start_child(self.instance, c)

    def on_cancel_child(self, c) -> None:
        self.uow.cancel_child(self.instance, c.wait_id)

    def on_incident(self, c) -> None:
        call = self.uow.calls.get((self.instance.pk, c.wait_id)) if c.wait_id else None
        if call is not None and call.state == ServiceCallState.RUNNING:
            tt.advance(tt.SERVICE_CALL, call, ServiceCallState.INCIDENT, history=self.history, node=call.node_id,
                       token=call.token_id, data={"call": call.pk, "attempts": call.attempt})
            call.finished_at = self.uow.now
            call.save(update_fields=["state", "finished_at"])
        self.uow.open_incident(self.instance, node=c.node, token=c.token_id, wait_id=c.wait_id or "",
                               error_code=c.error_code or "", message=c.message, service_call=call,
                               attempts=call.attempt if call else 0, detail=call.last_error if call else "")

    def on_instance_status_changed(self, c) -> None:
        self.uow.status_changed(self.instance, c)

    # -- helpers -----------------------------------------------------------------------

    def resolve_incidents(self, where: Q, *, note: str) -> None:
        for incident in Incident.objects.filter(where, instance=self.instance, state=IncidentState.OPEN):
            self.uow.resolve_incident(incident, note=note)

    def flush(self) -> None:
        flight = self.uow.flight
        if flight is not None and (self.tasks or self.timers or self.subscriptions):
            raise NeedsTransaction  # rows a flight does not write (candidates, groups, ...)
        if self.tasks:
            self._flush_tasks()
        if self.calls:
            here = self.uow.take_call_here(self.instance, self.calls)
            if flight is not None:
                for call, pk in zip(self.calls, reserve_call_ids(len(self.calls)), strict=True):
                    call.pk = pk
                flight.insert_calls(self.calls)
            else:
                insert_calls(self.calls)
            for call in self.calls:
                tt.created(tt.SERVICE_CALL, ServiceCallState.PENDING, history=self.history,
                           node=call.node_id, token=call.token_id, data={"call": call.pk, "connector": call.request["connector"]})
                if call is here:  # inserted running already; record the claim edge it skipped
                    call.state = ServiceCallState.PENDING
                    tt.advance(tt.SERVICE_CALL, call, ServiceCallState.RUNNING, history=self.history, node=call.node_id,
                               token=call.token_id, data={"call": call.pk, "attempt": call.attempt})
                else:
                    self.uow.wakeups.add("service_call_execute_task", call.pk)
            self.calls = []
        if self.timers:
            TimerJob.objects.bulk_create(self.timers)
            for job in self.timers:
                tt.created(tt.TIMER_JOB, TimerState.SCHEDULED, history=self.history, node=job.node_id,
                           token=job.token_id, data={"timer": job.pk, "due_at": _iso(job.due_at)})
            self.timers = []
        if self.subscriptions:
            MessageSubscription.objects.bulk_create(self.subscriptions)
            self.subscriptions = []

    def _flush_tasks(self) -> None:
        usernames = {name for _, users, _ in self.tasks for name in users}
        usernames |= {task.context["assignee"] for task, _, _ in self.tasks if "assignee" in task.context}
        users = {}
        if usernames:
            User = get_user_model()
            users = {u.get_username(): u for u in User.objects.filter(**{f"{User.USERNAME_FIELD}__in": usernames})}
        group_names = {name for _, _, groups in self.tasks for name in groups}
        groups = self.uow.groups_named(group_names) if group_names else {}
        for task, cand_users, cand_groups in self.tasks:
            wanted = task.context.get("assignee")
            if wanted:
                task.assignee = users.get(wanted)
                if task.assignee is None:
                    task.context.setdefault("unresolved", []).append(wanted)
            missing = [u for u in cand_users if u not in users]
            if missing:
                task.context.setdefault("unresolved", []).extend(missing)
            task.open_to_all = not wanted and not cand_users and not cand_groups
            task.state = HumanTaskState.CLAIMED if task.assignee_id else HumanTaskState.OPEN
            task.claimed_at = self.uow.now if task.assignee_id else None
        HumanTask.objects.bulk_create([task for task, _, _ in self.tasks])
        cu, cg = [], []
        for task, cand_users, cand_groups in self.tasks:
            cu += [TaskCandidateUser(task=task, user=users[u]) for u in dict.fromkeys(cand_users) if u in users]
            cg += [TaskCandidateGroup(task=task, group=groups[g]) for g in dict.fromkeys(cand_groups) if g in groups]
            tt.created(tt.HUMAN_TASK, task.state, history=self.history, node=task.node_id, token=task.token_id,
                       data={"task": task.pk, "name": task.name, "assignee": task.context.get("assignee"),
                             "candidate_users": cand_users, "candidate_groups": cand_groups})
            self.uow.task_changed(task, user_ids=[users[u].pk for u in cand_users if u in users],
                                  group_names=cand_groups)
        if cu:
            TaskCandidateUser.objects.bulk_create(cu)
        if cg:
            TaskCandidateGroup.objects.bulk_create(cg)
        self.tasks = []


def _iso(value: _dt.datetime | None) -> str | None:
    return value.isoformat() if value else None
