"""Periodic jobs of the scheduler (runtime/scheduler.py): fire due timers, keep timer start
events scheduled, and re-send wake-ups that were lost.

Each job is safe to run in several schedulers at once: rows are claimed with
``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serialises writers anyway) and
stamped with ``dispatched_at`` in the same transaction, so two schedulers never send the
same wake-up twice within a lease, and a wake-up lost after the stamp is sent again once
the lease runs out.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from runtime.conf import flowyard_setting
from runtime.engine.errors import EngineError
from runtime.engine.timers import compute_due
from runtime.models import Continuation, ServiceCall, ServiceCallState, TimerJob, TimerState
from runtime.scheduler import periodic
from runtime.selectors import latest_versions, start_events
from runtime.store.wakeups import Wakeups
from runtime.store.graphs import graph_for

log = logging.getLogger(__name__)
BATCH = 500


def conf(key: str) -> float:
    return float(flowyard_setting(key))


@periodic(every=0.2, name="fire_due_timers")
def fire_due_timers(now=None) -> int:
    """Send a wake-up for every due timer job not dispatched within the lease."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=conf("TIMER_LEASE"))
    wakeups = Wakeups()
    with transaction.atomic():
        ids = list(
            TimerJob.objects.select_for_update(skip_locked=True)
            .filter(state=TimerState.SCHEDULED, due_at__lte=now)
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
            .order_by("due_at").values_list("pk", flat=True)[:BATCH]
        )
        if ids:
            TimerJob.objects.filter(pk__in=ids).update(dispatched_at=now)
            for pk in ids:
                wakeups.add("timer_fire_task", pk)
            wakeups.send_on_commit()
    return len(ids)


@periodic(every=5.0, name="reconcile_wakeups")
def reconcile_wakeups(now=None) -> int:
    """Re-send wake-ups whose effect is missing: continuations nobody applied, pending
    service calls nobody started, running calls whose worker died (lease expired)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=conf("RECONCILE_AFTER"))
    wakeups = Wakeups()
    sent = 0
    with transaction.atomic():
        # Events waiting for a suspended instance's resume are not lost, only held: skip them.
        rows = list(Continuation.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
                    .exclude(kind=Continuation.Kind.EVENT, instance__status="suspended")
                    .values_list("pk", "kind", "instance_id")[:BATCH])
        if rows:
            Continuation.objects.filter(pk__in=[r[0] for r in rows]).update(dispatched_at=now)
            for pk in {r[2] for r in rows if r[1] == Continuation.Kind.EVENT}:
                wakeups.add("instance_continue_task", pk)
            for pk, kind, _ in rows:
                if kind == Continuation.Kind.PUBLISH_MESSAGE:
                    wakeups.add("message_publish_task", pk)
                elif kind == Continuation.Kind.THROW_SIGNAL:
                    wakeups.add("signal_throw_task", pk)
        calls = list(ServiceCall.objects.select_for_update(skip_locked=True)
                     .filter(state=ServiceCallState.PENDING, next_attempt_at__lte=stale)
                     .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale))
                     .values_list("pk", flat=True)[:BATCH])
        if calls:
            ServiceCall.objects.filter(pk__in=calls).update(dispatched_at=now)
            for pk in calls:
                wakeups.add("service_call_execute_task", pk)
        sent = len(wakeups.pending)
        wakeups.send_on_commit()
    sent += _recover_lost_calls(now)
    if sent:
        log.info("reconciler re-sent %d wake-up(s)", sent)
    return sent


def _recover_lost_calls(now) -> int:
    """A call stuck in ``running`` past its timeout plus a grace lost its worker. Put it
    back to pending (the attempt counts) and wake it; the idempotency key makes a second
    delivery to the remote service harmless."""
    from runtime import transitions as tt
    from runtime.store import UnitOfWork

    grace = conf("CALL_LEASE_GRACE")
    candidates = [(pk, iid) for pk, iid, started, req in ServiceCall.objects.filter(state=ServiceCallState.RUNNING)
                  .values_list("pk", "instance_id", "started_at", "request")[:BATCH]
                  if started and started + timedelta(seconds=float(req.get("timeout") or 30) + grace) < now]
    for pk, instance_id in candidates:
        with transaction.atomic():
            uow = UnitOfWork(actor="system:reconciler")
            instance = uow.lock(instance_id)
            call = ServiceCall.objects.select_for_update().get(pk=pk)
            if call.state != ServiceCallState.RUNNING:
                continue
            tt.advance(tt.SERVICE_CALL, call, ServiceCallState.PENDING, history=uow.history(instance), node=call.node_id,
                       token=call.token_id, data={"call": call.pk, "reason": "worker lost (lease expired)"})
            if call.attempt >= call.max_attempts:
                call.max_attempts = call.attempt + 1  # the lost attempt never reported; give it one more
            call.next_attempt_at = call.dispatched_at = uow.now
            call.save(update_fields=["state", "max_attempts", "next_attempt_at", "dispatched_at"])
            uow.wakeups.add("service_call_execute_task", call.pk)
            uow.commit()
    return len(candidates)


_synced_versions: set[int] = set()


@periodic(every=5.0, name="sync_timer_starts")
def sync_timer_starts(now=None) -> int:
    """Keep exactly the latest version of each process scheduled for its timer start
    events: create missing jobs, cancel those of versions that were superseded."""
    now = now or timezone.now()
    latest = set(latest_versions().values_list("pk", flat=True))
    created = 0
    with transaction.atomic():
        superseded = TimerJob.objects.filter(instance__isnull=True, state=TimerState.SCHEDULED).exclude(version_id__in=latest)
        superseded.update(state=TimerState.CANCELLED)
        wanted = {(vid, node) for vid, node in start_events(kind="timer") if vid not in _synced_versions}
        if wanted:
            have = set(TimerJob.objects.filter(instance__isnull=True, version_id__in={v for v, _ in wanted})
                       .values_list("version_id", "node_id"))
            for version_id, node_id in sorted(wanted - have):
                node = graph_for(version_id).nodes[node_id]
                try:
                    due = compute_due(node.event["timer"], {}, now)
                except EngineError as exc:
                    log.warning("timer start event %s of version %s cannot be scheduled: %s", node_id, version_id, exc)
                    continue
                TimerJob.objects.create(version_id=version_id, node_id=node_id, due_at=due.at, timer=node.event["timer"],
                                        repeats_left=due.repeats, created_at=now)
                created += 1
        transaction.on_commit(lambda: _synced_versions.update(v for v, _ in wanted))
    return created
