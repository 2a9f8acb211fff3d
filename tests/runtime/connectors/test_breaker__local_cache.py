"""The process-local cache of Redis's "closed, no failures" answer: kept for ``local_cache``
seconds, dropped by anything this process learns. Real Redis (skipped when unreachable);
two RedisStore objects on a fake monotonic clock stand for two workers."""
from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from runtime.connectors.breaker import ALLOWED, ALLOWED_CLEAN, REFUSED, BreakerConfig, RedisStore
from runtime.connectors.checks import check_connector_settings

from .test_breaker__redis import redis_url  # noqa: F401  (fixture)

CFG = BreakerConfig(failure_threshold=3, reset_timeout=10, probe_timeout=60, local_cache=1.0)
EP = "http://svc:80"


@pytest.fixture
def workers(redis_url, clock):  # noqa: F811
    prefix = f"flowyard-test:{uuid.uuid4().hex}:"
    one, two = RedisStore(redis_url, prefix, clock=clock), RedisStore(redis_url, prefix, clock=clock)
    yield one, two
    one.clear()


def known_and_clean(store, cfg=CFG) -> None:
    """Register EP as closed with no failures and let ``store`` cache that answer."""
    store.record_success(EP, cfg)
    assert store.allow(EP, cfg) == ALLOWED_CLEAN


def test_within_local_cache_allow_does_not_ask_redis_and_after_it_does(workers, clock):
    one, two = workers
    known_and_clean(one)
    two.clear()  # Redis forgets EP: asked, it would answer ALLOWED (unknown endpoint)

    clock.advance(0.99)
    assert one.allow(EP, CFG) == ALLOWED_CLEAN
    clock.advance(0.02)
    assert one.allow(EP, CFG) == ALLOWED


def test_another_worker_opening_the_circuit_is_seen_once_the_cache_expires(workers, clock):
    one, two = workers
    known_and_clean(one)
    for _ in range(3):
        two.record_failure(EP, CFG, "boom")

    assert one.allow(EP, CFG) == ALLOWED_CLEAN  # the documented lag
    clock.advance(1.01)
    assert one.allow(EP, CFG) == REFUSED


def test_with_local_cache_off_another_worker_opening_the_circuit_is_seen_at_once(workers, connector_settings):
    connector_settings["BREAKER"]["local_cache"] = "PT0S"
    cfg = BreakerConfig.from_settings()
    one, two = workers
    known_and_clean(one, cfg)
    for _ in range(3):
        two.record_failure(EP, cfg, "boom")

    assert one.allow(EP, cfg) == REFUSED


def test_own_failure_drops_the_cached_answer(workers):
    one, _ = workers
    cfg = replace(CFG, failure_threshold=1)
    known_and_clean(one, cfg)
    one.record_failure(EP, cfg, "boom")

    assert one.allow(EP, cfg) == REFUSED


@pytest.mark.parametrize("learn", ["release", "reset", "clear"])
def test_release_a_reset_and_clear_drop_the_cached_answer(workers, learn):
    one, two = workers
    known_and_clean(one)
    if learn == "release":
        one.release(EP)
    elif learn == "reset":
        two.record_failure(EP, CFG, "boom")
        one.record_success(EP, CFG)  # resets the failure: something changed
    else:
        one.clear()
    two.clear()

    assert one.allow(EP, CFG) == ALLOWED  # asked Redis, which no longer knows EP


def test_a_success_that_resets_nothing_keeps_the_cached_answer(workers):
    one, two = workers
    known_and_clean(one)
    one.record_success(EP, CFG)
    two.clear()

    assert one.allow(EP, CFG) == ALLOWED_CLEAN


def test_a_failure_landing_while_allow_reads_redis_is_not_hidden(workers, monkeypatch):
    one, _ = workers
    cfg = replace(CFG, failure_threshold=1)
    one.record_success(EP, cfg)
    read_redis, landed = one._allow, []

    def failure_lands_after_the_first_read(**kwargs):
        answer = read_redis(**kwargs)
        if not landed:  # another thread of this process records a failure at this moment
            landed.append(one.record_failure(EP, cfg, "boom"))
        return answer
    monkeypatch.setattr(one, "_allow", failure_lands_after_the_first_read)

    assert one.allow(EP, cfg) == ALLOWED_CLEAN  # read before the failure
    assert one.allow(EP, cfg) == REFUSED


def test_the_setting_defaults_to_one_second_and_a_bad_value_is_named(connector_settings):
    assert BreakerConfig.from_settings().local_cache == 1.0
    connector_settings["BREAKER"]["local_cache"] = "PT0S"
    assert BreakerConfig.from_settings().local_cache == 0.0 and check_connector_settings() == []

    connector_settings["BREAKER"]["local_cache"] = "soon"
    errors = check_connector_settings()
    assert [e.id for e in errors] == ["connectors.E003"]
    assert errors[0].msg == "FLOWYARD['BREAKER'] is invalid: local_cache: not an ISO 8601 duration: 'soon'"
