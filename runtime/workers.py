"""What the Celery tasks do: the engine work behind each wake-up.

Every function here takes ids, reloads the truth under the instance lock and checks the
row's state before acting, so a duplicate or late wake-up changes nothing (and says so in
the history). Service calls run their connector *between* two short transactions, never
under a lock.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection, transaction
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
from runtime.store.flight import Flight, FlightConflict, NeedsTransaction, can_fly, only_the_flight_writes
from runtime.store.inserts import prepared_cursor, twin

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
        state, call = _apply(call, instance_id, _call_connector(call), run_next_here=step < LOCAL_CHAIN)
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
    claimed = _claim_in_one_statement(call_id)
    if claimed is not None:
        return claimed
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
    call.instance = instance  # as this transaction committed it: _apply may reuse it (see _relock)
    return call, instance_id


def _claim_in_one_statement(call_id: int):
    """Claim a due pending call with one read and one guarded statement (see
    ``_apply_in_one_statement``); None when the ordinary way must decide (the call is gone,
    not pending, not due, its instance suspended or ended, or either changed meanwhile)."""
    if not can_fly():
        return None
    call = ServiceCall.objects.select_related("instance").filter(pk=call_id).first()
    if call is None:
        return None
    instance = call.instance
    uow = UnitOfWork(actor="system:connector")
    if (call.state != ServiceCallState.PENDING or call.next_attempt_at > uow.now + CALL_EARLY_TOLERANCE
            or instance.status != InstanceStatus.RUNNING):
        return None
    uow.adopt(instance)
    uow.flight = flight = Flight(instance, call_as_read=call)
    tt.advance(tt.SERVICE_CALL, call, ServiceCallState.RUNNING, history=uow.history(instance), node=call.node_id,
               token=call.token_id, data={"call": call.pk, "attempt": call.attempt + 1})
    call.attempt += 1
    call.started_at = uow.now
    flight.claim_call(call)
    uow.dirty.add(instance.pk)
    try:
        with only_the_flight_writes(uow):
            uow.commit()
    except (NeedsTransaction, FlightConflict):
        return None
    return call, instance.pk


_CALLS = ServiceCall._meta.db_table
_INSTANCES = ProcessInstance._meta.db_table
_FINISH_SQL = (f'UPDATE "{_CALLS}" SET "state" = %s, "result" = %s, "finished_at" = %s, "last_error" = %s '
               f'WHERE "id" = %s AND "state" = %s AND "attempt" = %s AND "started_at" = %s')
_UNCHANGED_SQL = f'SELECT 1 FROM "{_INSTANCES}" WHERE "id" = %s AND "history_seq" = %s AND "updated_at" = %s'


def _finish_running(ran: ServiceCall, target: str, result, now, last_error: str) -> bool:
    """Move the attempt ``ran`` from running to ``target`` with its result, if the row is
    still that attempt (see ``_still_ours``): one statement, no read first. Written in SQL
    because the ORM spent more CPU building this UPDATE than the database running it."""
    ops = connection.ops
    params = [target, ServiceCall._meta.get_field("result").get_db_prep_save(result, connection),
              ops.adapt_datetimefield_value(now), last_error, ran.pk, ServiceCallState.RUNNING, ran.attempt,
              ops.adapt_datetimefield_value(ran.started_at)]
    with prepared_cursor() as cursor:
        cursor.execute(_FINISH_SQL, params)
        return cursor.rowcount == 1


def _relock(uow: UnitOfWork, instance_id: int, ran: ServiceCall) -> ProcessInstance:
    """Lock the call's instance for applying an outcome.

    A call this worker claimed carries the instance as the claiming transaction committed
    it (``_claim_attempt``, or the previous ``_apply`` of a local chain, whose new call
    holds the very instance object it saved). When the row still has that copy's
    ``history_seq`` and ``updated_at`` (every write of an instance row saves both), the lock
    is a one-column read and the copy is used as it is; otherwise, or without a copy, the
    row is read in full as usual. Saves decoding the state and variables per call.
    """
    known = ran.instance if ServiceCall.instance.is_cached(ran) else None
    if known is not None and known.pk == instance_id and known.updated_at is not None:
        sql = _UNCHANGED_SQL + (" FOR UPDATE" if connection.features.has_select_for_update else "")
        with prepared_cursor() as cursor:
            cursor.execute(sql, [instance_id, known.history_seq, connection.ops.adapt_datetimefield_value(known.updated_at)])
            if cursor.fetchone() is not None:
                return uow.adopt(known)
    return uow.lock(instance_id)


def _apply_outcome(call_id: int, instance_id: int, attempt: int, outcome) -> str:
    """Apply an outcome for a call known by id (the row is read under the instance lock)."""
    call = ServiceCall.objects.get(pk=call_id)
    if call.attempt != attempt:
        call.attempt, call.started_at = attempt, None  # not the attempt we ran: never matches
    return _apply(call, instance_id, outcome, run_next_here=False)[0]


def _still_ours(row: ServiceCall, ran: ServiceCall) -> bool:
    """Is the row still the attempt this worker claimed? Every change to a call's state
    holds its instance's lock, and a re-claim counts the attempt and stamps started_at."""
    return (row.state == ServiceCallState.RUNNING and row.attempt == ran.attempt
            and row.started_at == ran.started_at)


def _finished(outcome) -> tuple[str, str]:
    """The state and last_error an ``ok`` or ``business_error`` outcome leaves its running
    call in (the transition checked before either way writes it)."""
    target = ServiceCallState.SUCCEEDED if outcome.status == OK else ServiceCallState.FAILED
    tt.SERVICE_CALL.check(ServiceCallState.RUNNING, target)
    return target, "" if outcome.status == OK else f"{outcome.message}\n{outcome.detail}".strip()[:8000]


def _feed_finished(uow: UnitOfWork, instance: ProcessInstance, call: ServiceCall, outcome, last_error: str) -> None:
    """Record a finished call (its row is written by the caller) and feed the engine its
    outcome: the instance moves on."""
    data = {"call": call.pk, "attempt": call.attempt, "status": outcome.status, "elapsed": round(outcome.elapsed, 4)}
    history = uow.history(instance)
    if outcome.status == OK:
        tt.advance(tt.SERVICE_CALL, call, ServiceCallState.SUCCEEDED, history=history, node=call.node_id,
                   token=call.token_id, data=data)
        event = ev.ServiceCallSucceeded(wait_id=call.wait_id, result=outcome.result)
    else:
        tt.advance(tt.SERVICE_CALL, call, ServiceCallState.FAILED, history=history, node=call.node_id,
                   token=call.token_id, data={**data, "error_code": outcome.error_code})
        event = ev.ServiceCallFailed(wait_id=call.wait_id, error_code=outcome.error_code, message=outcome.message,
                                     retryable=False)
    call.result, call.finished_at, call.last_error = outcome.result, uow.now, last_error
    uow.feed(instance, event, hold_if_suspended=False)


def _apply_in_one_statement(ran: ServiceCall, instance_id: int, outcome, *, run_next_here: bool):
    """Apply an ``ok`` or ``business_error`` outcome as one guarded statement that commits
    by itself (``runtime.store.flight``); None when this one needs the ordinary way (not on
    PostgreSQL, a transaction already open, no committed copy of the instance at hand, a
    step writing rows a flight does not, a receiver that must commit with it, or the
    instance changed since the claim), with nothing written.

    Works on copies of the call and the instance, so the ordinary way starts from them as
    they were."""
    known = ran.instance if ServiceCall.instance.is_cached(ran) else None
    if known is None or known.pk != instance_id or known.updated_at is None or not can_fly():
        return None
    instance, call = twin(known), twin(ran)
    uow = UnitOfWork(actor="system:connector")
    uow.run_calls_here = run_next_here
    uow.adopt(instance)
    uow.calls[(instance.pk, call.wait_id)] = call
    uow.flight = flight = Flight(instance, call_as_read=ran)
    target, last_error = _finished(outcome)
    try:
        with only_the_flight_writes(uow):
            flight.finish_call(call, state=target, result=outcome.result, finished_at=uow.now, last_error=last_error)
            _feed_finished(uow, instance, call, outcome, last_error)
            uow.commit()
    except (NeedsTransaction, FlightConflict):
        return None
    return call.state, uow.call_here


def _apply(ran: ServiceCall, instance_id: int, outcome, *, run_next_here: bool) -> tuple[str, ServiceCall | None]:
    """Apply the outcome of the attempt ``ran`` (the call as this worker claimed it); return
    the call's state and the next call this worker claimed in the same transaction
    (``run_next_here``), if any.

    The usual outcomes (``ok``, ``business_error``) finish the row with one conditional
    UPDATE that also proves the attempt is still this worker's, instead of reading the
    row back first; the others read it under the instance lock.
    """
    if outcome.status in (OK, BUSINESS_ERROR):
        applied = _apply_in_one_statement(ran, instance_id, outcome, run_next_here=run_next_here)
        if applied is not None:
            return applied
    attempt = ran.attempt
    with transaction.atomic():
        uow = UnitOfWork(actor="system:connector")
        uow.run_calls_here = run_next_here
        instance = _relock(uow, instance_id, ran)
        history = uow.history(instance)
        if outcome.status in (OK, BUSINESS_ERROR):
            call = ran
            target, last_error = _finished(outcome)
            ours = _finish_running(ran, target, outcome.result, uow.now, last_error)
        else:
            call = ServiceCall.objects.select_for_update().get(pk=ran.pk)
            ours = _still_ours(call, ran)
        if not ours:
            state = ServiceCall.objects.filter(pk=ran.pk).values_list("state", flat=True).first()
            history.add("event.ignored", node=ran.node_id, token=ran.token_id,
                        data={"event": "service call outcome", "call": ran.pk, "reason": f"call is {state}"})
            uow.commit()
            return "ignored", None
        uow.calls[(instance.pk, call.wait_id)] = call
        data = {"call": call.pk, "attempt": attempt, "status": outcome.status, "elapsed": round(outcome.elapsed, 4)}
        if outcome.status in (OK, BUSINESS_ERROR):
            _feed_finished(uow, instance, call, outcome, last_error)
        elif outcome.status == RETRYABLE and (outcome.circuit_open or attempt < call.max_attempts):
            call.last_error = f"{outcome.message}\n{outcome.detail}".strip()[:8000]
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
            call.last_error = f"{outcome.message}\n{outcome.detail}".strip()[:8000]
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
