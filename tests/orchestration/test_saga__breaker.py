"""A dead shop: the endpoint's circuit breaker opens after N consecutive failures; from then
on orders fail fast without touching it, except one half-open probe per reset timeout,
and once the shop is back every order completes. Hits are counted by the shop itself."""
from __future__ import annotations

import time

import pytest

from runtime import services
from runtime.connectors import breaker_states
from runtime.models import HistoryEvent, ProcessInstance
from tests.orchestration.conftest import deploy_saga, describe_instance, wait_for
from tests.orchestration.settings_overrides import BREAKER

pytestmark = pytest.mark.django_db(transaction=True)
THRESHOLD, RESET = BREAKER["failure_threshold"], BREAKER["reset_timeout"]


def breaker_of(url: str) -> dict:
    return next((b for b in breaker_states() if b["endpoint"] == url), {})


def test_a_dead_endpoint_is_left_alone_while_its_circuit_is_open(shop, worker):
    deploy_saga(retries=12)
    shop.fault("*", status=500)  # every operation answers 500 (no Retry-After hint)
    orders = [f"B-{n}" for n in range(4)]
    first = services.instance_start(process_key="order_saga", variables=shop.variables(orders[0]))
    wait_for(lambda: breaker_of(shop.url).get("state") == "open", timeout=10, what="the circuit to open",
             explain=lambda: f"{breaker_states()}\n{describe_instance(first.pk)}")
    opened = time.monotonic()
    assert shop.log()["totals"]["calls"] == THRESHOLD  # the failures that opened it, no more
    assert breaker_of(shop.url)["failures"] >= THRESHOLD and "500" in breaker_of(shop.url)["last_error"]

    # Later orders are turned away by the open circuit, not by the dead shop.
    others = [services.instance_start(process_key="order_saga", variables=shop.variables(order))
              for order in orders[1:]]
    wait_for(lambda: fail_fast_attempts(others) >= len(others), timeout=10,
             what="every later order to be turned away by the open circuit",
             explain=lambda: "\n".join(describe_instance(i.pk) for i in others))
    time.sleep(max(0.0, 2.5 * RESET - (time.monotonic() - opened)))  # let a few half-open windows pass
    shop.heal()
    dead_for = time.monotonic() - opened

    every = [first, *others]
    wait_for(lambda: all_completed(every), timeout=30, what="every order to complete once the shop is back",
             explain=lambda: "\n".join(describe_instance(i.pk) for i in every))

    faults = [c for c in shop.log()["calls"] if c["outcome"] == "fault"]
    probes = faults[THRESHOLD:]
    # While open, only one probe per half-open window reached the shop.
    assert 1 <= len(probes) <= 1 + dead_for / RESET, (len(probes), dead_for)
    hits = [call_time(c) for c in faults]
    gaps = [later - earlier for earlier, later in zip(hits[THRESHOLD - 1:], hits[THRESHOLD:])]
    assert all(gap >= 0.9 * RESET for gap in gaps), gaps
    assert fail_fast_attempts(every) > len(probes)  # attempts that never reached the shop
    for order in orders:
        assert shop.log(order_id=order)["summary"]["shipping/ship"] == {"calls": 1, "effects": 1}
    assert breaker_of(shop.url)["state"] == "closed"


def fail_fast_attempts(instances) -> int:
    events = HistoryEvent.objects.filter(instance__in=instances, type="service_call.state", to_state="pending")
    return sum(1 for data in events.values_list("data", flat=True) if "circuit open" in (data or {}).get("message", ""))


def all_completed(instances) -> bool:
    return set(ProcessInstance.objects.filter(pk__in=[i.pk for i in instances]).values_list("status", flat=True)) == {
        "completed"}


def call_time(call: dict) -> float:
    from datetime import datetime

    return datetime.fromisoformat(call["at"]).timestamp()
