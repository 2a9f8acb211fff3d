"""What the Celery tasks do: the engine work behind each wake-up.

Every function here takes ids, reloads the truth under the instance lock and checks the
row's state before acting, so a duplicate or late wake-up changes nothing (and says so in
the history). Service calls run their connector *between* two short transactions, never
under a lock.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from designer.models import ProcessVersion
from runtime import transitions as tt
from runtime.connectors import CallRequest, execute
from runtime.connectors.base import BUSINESS_ERROR, OK, RETRYABLE
from runtime.connectors.retry import next_delay
from runtime.engine import events as ev
from runtime.engine.errors import EngineError
from runtime.engine.state import ENDED
from runtime.engine.timers import next_occurrence, parse_duration
from runtime.models import (Continuation, InstanceStatus, ProcessInstance, ServiceCall, ServiceCallState, TimerJob,
                            TimerState)
from runtime.store import UnitOfWork

log = logging.getLogger(__name__)
EARLY_TOLERANCE = timedelta(seconds=1)       # a timer wake-up this early still fires
CALL_EARLY_TOLERANCE = timedelta(seconds=0.25)  # a delayed retry may arrive a little early
LOCAL_CHAIN = 50  # service calls one wake-up may run back to back (see service_call_execute)


# -- continuations -----------------------------------------------------------------------

def instance_continue(*, instance_id: int) -> int:
    """Apply the events others left for this instance (child ended, parent cancelled)."""
    from runtime.services import apply_continuations

    with transaction.atomic():
        uow = UnitOfWork(actor="system")
        try:
            instance = uow.lock(instance_id)
        except ProcessInstance.DoesNotExist:
            return 0
        applied = apply_continuations(uow, instance, only_cancel=instance.status == InstanceStatus.SUSPENDED)
        uow.commit()
    return applied


def outbound_deliver(*, continuation_id: int) -> None:
    """Deliver a message or signal an instance threw. The row is taken with SKIP LOCKED and
    deleted in the same transaction as the delivery, so it is delivered once."""
    from runtime import services

    with transaction.atomic():
        row = Continuation.objects.select_for_update(skip_locked=True).filter(pk=continuation_id).first()
        if row is None:
            return
        payload = row.event
        row.delete()
        if row.kind == Continuation.Kind.PUBLISH_MESSAGE:
            try:
                services.message_correlate(name=payload["name"], correlation_key=payload.get("correlation_key"),
                                           variables=payload.get("variables") or {})
            except services.MessageNotCorrelated as exc:
                log.info("message thrown by instance #%s at %s was not correlated: %s", row.instance_id,
                         payload.get("node"), exc)
        else:
            services.signal_broadcast(name=payload["name"], variables=payload.get("variables") or {},
                                      exclude_instance_id=row.instance_id)


# -- timers ------------------------------------------------------------------------------

def timer_fire(*, job_id: int) -> bool:
    """Fire one due timer job; True if it fired."""
    row = TimerJob.objects.filter(pk=job_id).values("instance_id", "due_at").first()
    if row is None or row["due_at"] > timezone.now() + EARLY_TOLERANCE:
        return False
    if row["instance_id"] is None:
        return _start_timer_fire(job_id)
    with transaction.atomic():
        uow = UnitOfWork(actor="system:timer")
        instance = uow.lock(row["instance_id"])
        job = TimerJob.objects.select_for_update().get(pk=job_id)
        if job.state != TimerState.SCHEDULED:
            uow.history(instance).add("event.ignored", node=job.node_id, token=job.token_id,
                                      data={"event": "TimerFired", "timer": job.pk, "reason": f"timer already {job.state}"})
            uow.commit()
            return False
        tt.advance(tt.TIMER_JOB, job, TimerState.FIRED, history=uow.history(instance), node=job.node_id,
                   token=job.token_id, data={"timer": job.pk})
        job.fired_at = uow.now
        job.fired_count += 1
        job.save(update_fields=["state", "fired_at", "fired_count"])
        uow.feed(instance, ev.TimerFired(wait_id=job.wait_id))
        uow.commit()
    return True


def _start_timer_fire(job_id: int) -> bool:
    """A timer start event: start an instance, then move a cycle to its next future occurrence
    (occurrences missed while every scheduler was down fire once, not once each)."""
    with transaction.atomic():
        job = TimerJob.objects.select_for_update(skip_locked=True).filter(pk=job_id, state=TimerState.SCHEDULED).first()
        if job is None:
            return False
        uow = UnitOfWork(actor="system:timer")
        version = ProcessVersion.objects.only("id").get(pk=job.version_id)
        instance = uow.create_instance(version=version, variables={})
        uow.history(instance).add("event.triggered", node=job.node_id, data={"timer": job.pk, "due_at": job.due_at})
        uow.feed(instance, ev.Start(node=job.node_id))
        job.fired_count += 1
        job.fired_at = uow.now
        nxt = _next_cycle(job, uow.now)
        if nxt is None:
            tt.TIMER_JOB.check(job.state, TimerState.FIRED)
            job.state = TimerState.FIRED
        else:
            job.due_at, job.repeats_left = nxt
        job.dispatched_at = None
        job.save(update_fields=["state", "due_at", "repeats_left", "fired_count", "fired_at", "dispatched_at"])
        uow.commit()
    return True


def _next_cycle(job: TimerJob, now):
    timer = job.timer or {}
    if timer.get("type") != "cycle":
        return None
    interval = str(timer.get("value", "")).split("/")[-1]  # R<n>/[start/]<duration>
    try:
        parse_duration(interval)
    except EngineError:
        return None
    due = next_occurrence(job.due_at, interval, job.repeats_left)
    while due is not None and due.at <= now:
        due = next_occurrence(due.at, interval, due.repeats)
    return None if due is None else (due.at, due.repeats)


# -- service calls -----------------------------------------------------------------------

def service_call_execute(*, call_id: int) -> str:
    """One attempt of a service call: claim it, run the connector unlocked, apply the outcome.

    When the outcome moves the instance on to another service call that is due now, the
    apply transaction claims that call for this worker, which runs it next instead of
    sending a wake-up through the broker (at most ``LOCAL_CHAIN`` calls per wake-up, so
    one instance cannot keep a worker thread forever).
    """
    claimed = _claim_attempt(call_id)
    if claimed is None:
        return "skipped"
    call, instance_id = claimed
    for step in range(1, LOCAL_CHAIN + 1):
        state, call = _apply(call.pk, instance_id, call.attempt, _call_connector(call), run_next_here=step < LOCAL_CHAIN)
        if call is None:
            return state
    return state


def _call_connector(call: ServiceCall):
    request = call.request
    return execute(CallRequest(
        connector=request.get("connector") or "http", config=request.get("config") or {},
        inputs=request.get("inputs") or {}, idempotency_key=call.idempotency_key,
        timeout=float(request.get("timeout") or 30.0), endpoint=request.get("endpoint") or "",
    ))


def _claim_attempt(call_id: int):
    with transaction.atomic():
        uow = UnitOfWork(actor="system:connector")
        # the call's instance, locked, in one round trip (a call never changes instance)
        instance = ProcessInstance.objects.select_for_update().filter(
            pk=ServiceCall.objects.filter(pk=call_id).values("instance_id")[:1]).first()
        if instance is None:
            return None
        instance_id = uow.adopt(instance).pk
        call = ServiceCall.objects.select_for_update().get(pk=call_id)
        if call.state != ServiceCallState.PENDING:
            uow.history(instance).add("event.ignored", node=call.node_id, token=call.token_id,
                                      data={"event": "service call wake-up", "call": call.pk,
                                            "reason": f"call is {call.state}"})
            uow.commit()
            return None
        if call.next_attempt_at > uow.now + CALL_EARLY_TOLERANCE or instance.status == InstanceStatus.SUSPENDED:
            return None  # too early (the delayed wake-up will come) or held until resume
        if instance.status in ENDED:
            tt.advance(tt.SERVICE_CALL, call, ServiceCallState.CANCELLED, history=uow.history(instance),
                       node=call.node_id, token=call.token_id, data={"call": call.pk, "reason": f"instance {instance.status}"})
            call.save(update_fields=["state"])
            uow.commit()
            return None
        tt.advance(tt.SERVICE_CALL, call, ServiceCallState.RUNNING, history=uow.history(instance), node=call.node_id,
                   token=call.token_id, data={"call": call.pk, "attempt": call.attempt + 1})
        call.attempt += 1
        call.started_at = uow.now
        call.save(update_fields=["state", "attempt", "started_at"])
        uow.commit()
    return call, instance_id


def _apply_outcome(call_id: int, instance_id: int, attempt: int, outcome) -> str:
    return _apply(call_id, instance_id, attempt, outcome, run_next_here=False)[0]


def _apply(call_id: int, instance_id: int, attempt: int, outcome, *,
           run_next_here: bool) -> tuple[str, ServiceCall | None]:
    """Apply one attempt's outcome; return the call's state and the next call this worker
    claimed in the same transaction (``run_next_here``), if any."""
    with transaction.atomic():
        uow = UnitOfWork(actor="system:connector")
        uow.run_calls_here = run_next_here
        instance = uow.lock(instance_id)
        call = ServiceCall.objects.select_for_update().get(pk=call_id)
        history = uow.history(instance)
        if call.state != ServiceCallState.RUNNING or call.attempt != attempt:
            history.add("event.ignored", node=call.node_id, token=call.token_id,
                        data={"event": "service call outcome", "call": call.pk, "reason": f"call is {call.state}"})
            uow.commit()
            return "ignored", None
        uow.calls[(instance.pk, call.wait_id)] = call
        call.last_error = "" if outcome.status == OK else f"{outcome.message}\n{outcome.detail}".strip()[:8000]
        data = {"call": call.pk, "attempt": attempt, "status": outcome.status, "elapsed": round(outcome.elapsed, 4)}
        if outcome.status == OK:
            tt.advance(tt.SERVICE_CALL, call, ServiceCallState.SUCCEEDED, history=history, node=call.node_id,
                       token=call.token_id, data=data)
            call.result, call.finished_at = outcome.result, uow.now
            call.save(update_fields=["state", "result", "finished_at", "last_error"])
            uow.feed(instance, ev.ServiceCallSucceeded(wait_id=call.wait_id, result=outcome.result), hold_if_suspended=False)
        elif outcome.status == BUSINESS_ERROR:
            tt.advance(tt.SERVICE_CALL, call, ServiceCallState.FAILED, history=history, node=call.node_id,
                       token=call.token_id, data={**data, "error_code": outcome.error_code})
            call.result, call.finished_at = outcome.result, uow.now
            call.save(update_fields=["state", "result", "finished_at", "last_error"])
            uow.feed(instance, ev.ServiceCallFailed(wait_id=call.wait_id, error_code=outcome.error_code,
                                                    message=outcome.message, retryable=False), hold_if_suspended=False)
        elif outcome.status == RETRYABLE and (outcome.circuit_open or attempt < call.max_attempts):
            if outcome.circuit_open:
                # Turned away by an open circuit, the endpoint never saw it: not an attempt.
                # It waits for the half-open moment (at least its last backoff), so an outage
                # does not spend the retry budget of every instance waiting on the endpoint.
                call.attempt -= 1
                data["circuit_open"] = True
            delay = max(next_delay(call.request.get("policy") or {}, max(call.attempt, 1)), outcome.retry_after or 0.0)
            tt.advance(tt.SERVICE_CALL, call, ServiceCallState.PENDING, history=history, node=call.node_id,
                       token=call.token_id, data={**data, "retry_in": delay, "message": outcome.message[:300]})
            call.next_attempt_at = uow.now + timedelta(seconds=delay)
            call.dispatched_at = uow.now
            call.save(update_fields=["state", "attempt", "next_attempt_at", "dispatched_at", "last_error"])
            uow.wakeups.add("service_call_execute_task", call.pk, countdown=delay)
        else:  # retries exhausted, or a configuration error no retry can fix
            call.save(update_fields=["last_error"])
            history.add("service_call.exhausted", node=call.node_id, token=call.token_id,
                        data={**data, "message": outcome.message[:300]})
            uow.feed(instance, ev.ServiceCallFailed(wait_id=call.wait_id, error_code=None,
                                                    message=outcome.message or "service call failed", retryable=True),
                     hold_if_suspended=False)
            if call.state == ServiceCallState.RUNNING:  # a boundary caught it: no incident
                tt.advance(tt.SERVICE_CALL, call, ServiceCallState.FAILED, history=history, node=call.node_id,
                           token=call.token_id, data={"call": call.pk})
                call.finished_at = uow.now
                call.save(update_fields=["state", "finished_at"])
        uow.commit()
        return call.state, uow.call_here
