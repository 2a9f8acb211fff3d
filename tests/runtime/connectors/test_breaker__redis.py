"""Circuit breaker state shared through the real Redis at 127.0.0.1:6379 (skipped when
unreachable). Two RedisStore objects, each with its own client, stand for two workers."""
from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import replace

import pytest

from runtime.connectors import CallRequest, breaker_states, execute
from runtime.connectors.breaker import Breaker, BreakerConfig, RedisStore, breaker_for

REDIS_URL = os.environ.get("FLOWYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CFG = BreakerConfig(failure_threshold=3, reset_timeout=0.4, probe_timeout=5)
UNCACHED = replace(CFG, local_cache=0)  # every allow() asks Redis


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture
def workers(redis_url):
    """Two stores on one key prefix, as two worker processes would have."""
    prefix = f"flowyard-test:{uuid.uuid4().hex}:"
    one, two = RedisStore(redis_url, prefix), RedisStore(redis_url, prefix)
    yield one, two
    one.clear()


def test_failures_on_one_worker_open_the_breaker_for_the_other(workers):
    one, two = (Breaker("http://svc:80", store, CFG) for store in workers)
    one.record_failure("boom")
    two.record_failure("boom")
    assert one.state == "closed" and one.allow()
    one.record_failure("boom")

    assert two.state == "open"
    assert not two.allow() and not one.allow()
    assert 0 < two.retry_after() <= 0.4


def test_half_open_admits_one_probe_across_workers_and_success_closes(workers):
    one, two = (Breaker("http://svc:80", store, CFG) for store in workers)
    for _ in range(3):
        one.record_failure()
    time.sleep(0.45)

    assert two.state == "half_open"
    assert two.allow()
    assert not one.allow() and not two.allow()
    two.record_success()
    assert one.state == "closed" and one.allow()


def test_failed_probe_reopens(workers):
    one, two = (Breaker("http://svc:80", store, CFG) for store in workers)
    for _ in range(3):
        one.record_failure()
    time.sleep(0.45)
    assert two.allow()
    two.record_failure("still down")

    assert one.state == "open" and not one.allow()
    assert one.snapshot()["last_error"] == "still down"


def test_one_probe_among_many_concurrent_callers(workers):
    breakers = [Breaker("http://svc:80", workers[i % 2], CFG) for i in range(12)]
    for _ in range(3):
        breakers[0].record_failure()
    time.sleep(0.45)

    barrier, allowed = threading.Barrier(12), []
    def worker(b):
        barrier.wait(timeout=5)
        allowed.append(b.allow())
    threads = [threading.Thread(target=worker, args=(b,)) for b in breakers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)

    assert sorted(allowed) == [False] * 11 + [True]


def test_endpoints_listing_is_shared(workers):
    one, two = workers
    Breaker("http://a:80", one, CFG).record_failure()
    Breaker("python:x.y", two, CFG).record_success()

    assert one.endpoints() == ["http://a:80", "python:x.y"]


def test_unreachable_redis_lets_calls_through():
    store = RedisStore("redis://127.0.0.1:1/0")
    breaker = Breaker("http://svc:80", store, CFG)
    for _ in range(5):
        breaker.record_failure()
    assert breaker.allow()


def test_execute_uses_redis_when_settings_name_it(service, connector_settings, redis_url, monkeypatch):
    from runtime.connectors import breaker

    connector_settings["REDIS_URL"] = redis_url
    monkeypatch.setattr(breaker, "KEY_PREFIX", f"flowyard-test:{uuid.uuid4().hex}:")
    monkeypatch.setattr(breaker, "_redis_stores", {})
    request = CallRequest("http", {"method": "POST", "url": f"{service.url}/status/503"}, {}, "k", 5.0)
    try:
        for _ in range(4):
            outcome = execute(request)
        assert outcome.circuit_open and service.hits["/status/503"] == 3
        other_worker = RedisStore(redis_url, breaker.KEY_PREFIX)
        assert Breaker(service.url, other_worker, CFG).state == "open"
        assert [s["state"] for s in breaker_states()] == ["open"]
    finally:
        breaker_for(service.url).store.clear()


def test_allow_says_whether_a_success_would_change_anything(workers):
    from runtime.connectors.breaker import ALLOWED, ALLOWED_CLEAN, REFUSED

    # Every answer from Redis itself: with the process-local cache, `one` would keep its
    # clean answer for a second after `two`'s failure (test_breaker__local_cache.py).
    one, two = workers
    assert one.allow("http://svc:80", UNCACHED) == ALLOWED  # unknown: its first success registers it
    one.record_success("http://svc:80", UNCACHED)
    assert one.allow("http://svc:80", UNCACHED) == ALLOWED_CLEAN
    two.record_failure("http://svc:80", UNCACHED, "boom")
    assert one.allow("http://svc:80", UNCACHED) == ALLOWED  # a failure is counted: a success resets it
    for _ in range(2):
        two.record_failure("http://svc:80", UNCACHED, "boom")
    assert one.allow("http://svc:80", UNCACHED) == REFUSED
    time.sleep(0.45)
    assert two.allow("http://svc:80", UNCACHED) == ALLOWED  # the half-open probe must report
