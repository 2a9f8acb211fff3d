"""Circuit breaker in one process: through execute() against a real server, and the
state machine on its own with a fake clock."""
from __future__ import annotations

import threading

from runtime.connectors import CallRequest, breaker_states, execute
from runtime.connectors.breaker import Breaker, BreakerConfig, MemoryStore, breaker_for

CFG = BreakerConfig(failure_threshold=3, reset_timeout=10, probe_timeout=60)


def call(url: str):
    config = {"method": "POST", "url": url, "headers": None, "body": {}}
    return execute(CallRequest(connector="http", config=config, inputs={}, idempotency_key="k", timeout=5.0))


def test_opens_after_n_failures_and_then_fails_fast_without_calling(service, connector_settings):
    for _ in range(3):
        assert call(f"{service.url}/status/503").status == "retryable"
    assert breaker_for(service.url).state == "open"

    outcome = call(f"{service.url}/status/503")
    assert outcome.status == "retryable" and outcome.circuit_open
    assert outcome.message == f"circuit open for {service.url}"
    assert outcome.retry_after == 10
    assert service.hits["/status/503"] == 3
    # one breaker per endpoint: every path of the host is cut off
    assert call(f"{service.url}/echo").circuit_open and service.hits["/echo"] == 0


def test_half_open_lets_one_probe_through_and_its_success_closes(service, connector_settings, clock):
    for _ in range(3):
        call(f"{service.url}/status/500")
    clock.advance(9.9)
    assert call(f"{service.url}/echo").circuit_open
    clock.advance(0.2)
    assert breaker_for(service.url).state == "half_open"

    assert call(f"{service.url}/echo").status == "ok"
    assert breaker_for(service.url).state == "closed"
    assert service.hits["/echo"] == 1
    assert call(f"{service.url}/echo").status == "ok"


def test_failed_probe_reopens_for_another_reset_timeout(service, connector_settings, clock):
    for _ in range(3):
        call(f"{service.url}/status/500")
    clock.advance(10)
    assert not call(f"{service.url}/status/500").circuit_open  # the probe reached the server
    assert service.hits["/status/500"] == 4
    assert breaker_for(service.url).state == "open"
    clock.advance(9)
    assert call(f"{service.url}/status/500").circuit_open
    assert service.hits["/status/500"] == 4


def test_business_errors_prove_the_endpoint_is_up(service, connector_settings):
    call(f"{service.url}/status/503")
    call(f"{service.url}/status/503")
    call(f"{service.url}/status/402")
    call(f"{service.url}/status/503")
    call(f"{service.url}/status/503")

    assert breaker_for(service.url).state == "closed"


def test_breaker_states_lists_known_endpoints(service, connector_settings):
    for _ in range(3):
        call(f"{service.url}/status/503")

    (state,) = [s for s in breaker_states() if s["endpoint"] == service.url]
    assert state["state"] == "open" and state["failures"] == 3
    assert "503" in state["last_error"]


def test_only_one_half_open_probe_among_concurrent_callers(clock):
    store = MemoryStore(clock=clock)
    breaker = Breaker("svc", store, CFG)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(10)

    barrier, allowed = threading.Barrier(16), []
    def worker():
        barrier.wait(timeout=5)
        allowed.append(breaker.allow())
    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)

    assert sorted(allowed) == [False] * 15 + [True]


def test_a_probe_that_never_reports_frees_its_slot_after_probe_timeout(clock):
    breaker = Breaker("svc", MemoryStore(clock=clock), CFG)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(10)
    assert breaker.allow() and not breaker.allow()
    clock.advance(60.1)
    assert breaker.allow()


def test_release_gives_the_probe_slot_back(clock):
    breaker = Breaker("svc", MemoryStore(clock=clock), CFG)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_success_resets_the_consecutive_count(clock):
    breaker = Breaker("svc", MemoryStore(clock=clock), CFG)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed" and breaker.allow()


def test_disabled_breaker_never_opens(service, connector_settings):
    connector_settings["BREAKER"] = {"enabled": False, "failure_threshold": 1}
    for _ in range(4):
        assert not call(f"{service.url}/status/503").circuit_open
    assert service.hits["/status/503"] == 4


class CountingStore(MemoryStore):
    def __init__(self, clock):
        super().__init__(clock=clock)
        self.successes = 0

    def record_success(self, endpoint, cfg):
        self.successes += 1
        super().record_success(endpoint, cfg)


def test_a_success_is_sent_to_the_store_only_when_it_changes_something(service, connector_settings, clock, monkeypatch):
    from runtime.connectors import breaker as breaker_module

    store = CountingStore(clock)
    monkeypatch.setattr(breaker_module, "_memory_store", store)
    assert call(f"{service.url}/echo").status == "ok"
    assert store.successes == 1  # the first success makes the endpoint known
    assert [s["endpoint"] for s in breaker_states()] == [service.url]
    call(f"{service.url}/echo")
    call(f"{service.url}/status/402")  # a business error proves the endpoint answered, too
    assert store.successes == 1  # closed, nothing counted: nothing to record
    call(f"{service.url}/status/503")
    call(f"{service.url}/status/503")
    assert call(f"{service.url}/echo").status == "ok"
    assert store.successes == 2 and breaker_for(service.url).snapshot()["failures"] == 0
