"""Crash safety on PostgreSQL + Redis: a `celery worker` process is SIGKILLed in the middle
of 200 running orders; a new worker starts; the reconciler re-sends the wake-ups the dead
one took with it (pending calls it had prefetched, calls it was running when it died);
every order completes, and the shop sees each effect exactly once (calls may repeat)."""
from __future__ import annotations

import time
from collections import Counter

import pytest
from django.conf import settings

from runtime import services
from runtime.models import ProcessInstance, ServiceCall
from tests.orchestration.conftest import WorkerProcess, deploy_saga, describe_instance, only_our_workers, wait_for

pytestmark = [pytest.mark.service, pytest.mark.django_db(transaction=True)]
ORDERS = 200
EFFECTS = {"inventory/reserve", "payments/charge", "shipping/ship"}


@pytest.fixture
def service_mode():
    if not settings.SERVICE_MODE:
        pytest.skip("crash safety needs separate worker processes: PostgreSQL + Redis (service mode)")


def statuses(ids) -> Counter:
    return Counter(ProcessInstance.objects.filter(pk__in=ids).values_list("status", flat=True))


def test_a_worker_killed_mid_run_loses_no_order_and_repeats_no_effect(service_mode, shop, scheduler_jobs):
    # The attempt timeout bounds how long a call the dead worker was running stays
    # "running" before the reconciler takes it back (timeout + CALL_LEASE_GRACE = 4 s).
    deploy_saga(retries=5, timeout="PT3S")
    shop.fault("payments/charge", status=502, count=40, after_effect=True)  # lost answers too
    with only_our_workers():
        first = WorkerProcess("crash-1").wait_ready()
        try:
            ids = [services.instance_start(process_key="order_saga", business_key=f"K-{n}",
                                           variables=shop.variables(f"K-{n}")).pk for n in range(ORDERS)]
            started = time.monotonic()
            wait_for(lambda: shop.log()["summary"]["shipping/ship"]["effects"] >= ORDERS // 4, timeout=30,
                     what="a quarter of the orders to ship before the kill", every=0.02,
                     explain=lambda: f"{statuses(ids)}\n{first.log_tail()}")
            first.kill()
        finally:
            first.stop()
        at_kill = statuses(ids)
        in_flight = Counter(ServiceCall.objects.filter(instance_id__in=ids, state__in=["pending", "running"])
                            .values_list("state", flat=True))
        assert at_kill["running"] > 0, f"every order ended before the kill; nothing was tested: {at_kill}"

        second = WorkerProcess("crash-2").wait_ready()
        try:
            wait_for(lambda: statuses(ids)["completed"] == ORDERS, timeout=60, every=0.2,
                     what=f"all {ORDERS} orders to complete after the kill (at the kill: {dict(at_kill)}, "
                          f"calls in flight: {dict(in_flight)})",
                     explain=lambda: explain_stuck(ids, second))
        finally:
            second.stop()
    elapsed = time.monotonic() - started

    log = shop.log()
    effects = Counter((e["order_id"], e["operation"]) for e in log["effects"])
    wrong = {key: n for key, n in effects.items() if n != 1}
    assert not wrong, f"effects repeated: {wrong}"
    for n in range(ORDERS):
        assert {op for (order, op) in effects if order == f"K-{n}"} == EFFECTS, f"K-{n} misses an effect"
    replays = sum(1 for c in log["calls"] if c["outcome"] in ("replay", "lost_response"))
    print(f"\ncrash safety: {ORDERS} orders in {elapsed:.1f}s; at the kill {dict(at_kill)}, calls in flight "
          f"{dict(in_flight)}; {log['totals']['calls']} calls ({replays} replayed or lost) for "
          f"{log['totals']['effects']} effects")


def explain_stuck(ids, worker: WorkerProcess) -> str:
    stuck = list(ProcessInstance.objects.filter(pk__in=ids).exclude(status="completed").values_list("pk", flat=True)[:3])
    return "\n".join([str(statuses(ids)), *(describe_instance(pk) for pk in stuck), "worker log:", worker.log_tail()])
