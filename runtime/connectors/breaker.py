"""Circuit breakers, one per endpoint, shared by every worker.

A breaker counts consecutive failed calls. At ``failure_threshold`` it opens: calls fail
fast without touching the endpoint. After ``reset_timeout`` it is half-open and lets ONE
probe through; the probe's success closes it, its failure re-opens it for another
``reset_timeout``. A probe that never reports (its worker died) frees the half-open slot
after ``probe_timeout``.

State lives in Redis when ``settings.REDIS_URL`` is set, so all workers see one breaker
per endpoint; every transition is one Lua script, atomic on the server, and uses the Redis
clock so workers with skewed clocks agree. Without Redis (embedded mode, one process) it
lives in a dict behind a lock. If Redis cannot be reached the breaker lets calls through:
it protects endpoints, it must not become the outage.

Each process keeps Redis's "closed, no failures" answer for ``local_cache`` (default 1 s)
and answers from it without a round trip. The price: another worker's failures that open
the circuit reach this process up to ``local_cache`` later (its own at once), and within
that window this process's successes do not reset failures other workers counted.
Per-process breakers (resilience4j, Hystrix) never see other workers at all; ours stays
shared and only lags by that much. ``local_cache = "PT0S"`` turns it off.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

from . import conf
from .retry import duration_seconds

log = logging.getLogger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
#: What a store's ``allow`` answers: refused; let through with nothing to reset on success
#: (known endpoint, closed, no failures counted); let through, a success must be recorded.
REFUSED, ALLOWED_CLEAN, ALLOWED = 0, 1, 2
KEY_PREFIX = "flowyard:breaker:"
STATE_TTL = 7 * 24 * 3600  # forget endpoints not called for a week


@dataclass(frozen=True)
class BreakerConfig:
    failure_threshold: int = 5
    reset_timeout: float = 30.0
    probe_timeout: float = 60.0
    local_cache: float = 1.0  # seconds a process trusts a "closed, no failures" answer

    @classmethod
    def from_settings(cls) -> "BreakerConfig":
        cfg = conf.breaker_config()
        return cls(
            failure_threshold=max(1, int(cfg["failure_threshold"])),
            reset_timeout=duration_seconds(cfg["reset_timeout"]),
            probe_timeout=duration_seconds(cfg["probe_timeout"]),
            local_cache=duration_seconds(cfg["local_cache"]),
        )


def _state_of(failures: int, opened_at: float, now: float, cfg: BreakerConfig) -> str:
    if not opened_at:
        return CLOSED
    return OPEN if now < opened_at + cfg.reset_timeout else HALF_OPEN


class MemoryStore:
    """Breaker state for one process. ``clock`` is injectable for tests."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self._lock = threading.Lock()
        self._rows: dict[str, dict] = {}

    def _row(self, endpoint: str) -> dict:
        return self._rows.setdefault(endpoint, {"failures": 0, "opened_at": 0.0, "probe_until": 0.0, "last_error": ""})

    def allow(self, endpoint: str, cfg: BreakerConfig) -> int:
        with self._lock:
            row, now = self._rows.get(endpoint), self.clock()
            if row is None:
                return ALLOWED  # its first success makes the endpoint known
            state = _state_of(row["failures"], row["opened_at"], now, cfg)
            if state == CLOSED:
                return ALLOWED if row["failures"] else ALLOWED_CLEAN
            if state == OPEN or row["probe_until"] > now:
                return REFUSED
            row["probe_until"] = now + cfg.probe_timeout  # this caller is the one probe
            return ALLOWED

    def record_success(self, endpoint: str, cfg: BreakerConfig) -> None:
        with self._lock:
            self._row(endpoint).update(failures=0, opened_at=0.0, probe_until=0.0)

    def record_failure(self, endpoint: str, cfg: BreakerConfig, reason: str = "") -> None:
        with self._lock:
            row, now = self._row(endpoint), self.clock()
            row["failures"] += 1
            row["last_error"] = reason[:500]
            state = _state_of(row["failures"], row["opened_at"], now, cfg)
            if state == HALF_OPEN or (state == CLOSED and row["failures"] >= cfg.failure_threshold):
                row.update(opened_at=now, probe_until=0.0)

    def release(self, endpoint: str) -> None:
        with self._lock:
            if endpoint in self._rows:
                self._rows[endpoint]["probe_until"] = 0.0

    def snapshot(self, endpoint: str, cfg: BreakerConfig) -> dict:
        with self._lock:
            row = dict(self._rows.get(endpoint) or {"failures": 0, "opened_at": 0.0, "probe_until": 0.0, "last_error": ""})
            now = self.clock()
        return _describe(endpoint, row, now, cfg)

    def endpoints(self) -> list[str]:
        with self._lock:
            return sorted(self._rows)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


# KEYS[1] = state hash, KEYS[2] = set of known endpoints.
# ARGV = endpoint, failure_threshold, reset_timeout, probe_timeout, ttl[, reason]
_LUA_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000\n"
# allow: 0 refused, 1 closed with no failures (a success changes nothing), 2 let through
# and a success must be recorded (failures counted, the half-open probe, an unknown endpoint)
_LUA_ALLOW = _LUA_NOW + """
local row = redis.call('HMGET', KEYS[1], 'failures', 'opened_at')
local opened = tonumber(row[2] or '0')
if opened == 0 then
  if row[1] and tonumber(row[1]) == 0 then return 1 end
  return 2
end
if now < opened + tonumber(ARGV[3]) then return 0 end
local probe = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if probe > now then return 0 end
redis.call('HSET', KEYS[1], 'probe_until', string.format('%.6f', now + tonumber(ARGV[4])))
return 2
"""
_LUA_SUCCESS = """
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '-1')
if failures == 0 and tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '0') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'failures', 0, 'opened_at', 0, 'probe_until', 0)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""
_LUA_FAILURE = _LUA_NOW + """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'last_error', ARGV[6] or '')
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '0')
local half_open = opened > 0 and now >= opened + tonumber(ARGV[3])
if half_open or (opened == 0 and failures >= tonumber(ARGV[2])) then
  redis.call('HSET', KEYS[1], 'opened_at', string.format('%.6f', now), 'probe_until', 0)
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
redis.call('SADD', KEYS[2], ARGV[1])
return failures
"""
_LUA_PEEK = _LUA_NOW + """
local row = redis.call('HMGET', KEYS[1], 'failures', 'opened_at', 'probe_until', 'last_error')
return {row[1] or '0', row[2] or '0', row[3] or '0', row[4] or '', string.format('%.6f', now)}
"""


class _CleanCache:
    """Endpoints this process recently found closed with no failures, each until a deadline."""

    def __init__(self, clock):
        self.clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}
        self._drops = 0  # bumped by every drop; see remember()

    def fresh(self, endpoint: str) -> bool:
        with self._lock:
            return self._until.get(endpoint, 0.0) > self.clock()

    def drops(self) -> int:
        with self._lock:
            return self._drops

    def remember(self, endpoint: str, ttl: float, drops_before: int) -> None:
        # A drop between the caller's read of Redis and now may have come from a failure
        # this answer predates: keeping the answer would hide that failure for ``ttl``.
        with self._lock:
            if self._drops == drops_before:
                self._until[endpoint] = self.clock() + ttl

    def drop(self, endpoint: str | None = None) -> None:
        """Forget ``endpoint`` (every endpoint when None)."""
        with self._lock:
            self._drops += 1
            if endpoint is None:
                self._until.clear()
            else:
                self._until.pop(endpoint, None)


class RedisStore:
    """Breaker state in Redis, shared by every worker that uses the same server.

    ``clock`` (monotonic) times the process-local cache of clean answers; injectable for tests.
    """

    def __init__(self, url: str, prefix: str | None = None, clock=time.monotonic):
        import redis

        self.url, self.prefix = url, KEY_PREFIX if prefix is None else prefix
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._allow = self.client.register_script(_LUA_ALLOW)
        self._success = self.client.register_script(_LUA_SUCCESS)
        self._failure = self.client.register_script(_LUA_FAILURE)
        self._peek = self.client.register_script(_LUA_PEEK)
        self._clean = _CleanCache(clock)

    def _keys(self, endpoint: str) -> list[str]:
        return [f"{self.prefix}{endpoint}", f"{self.prefix}__endpoints__"]

    def _args(self, endpoint: str, cfg: BreakerConfig, reason: str = "") -> list:
        return [endpoint, cfg.failure_threshold, cfg.reset_timeout, cfg.probe_timeout, STATE_TTL, reason[:500]]

    def _run(self, script, endpoint: str, cfg: BreakerConfig, fallback, reason: str = ""):
        import redis

        try:
            return script(keys=self._keys(endpoint), args=self._args(endpoint, cfg, reason))
        except redis.RedisError as exc:
            log.warning("circuit breaker store unreachable (%s); letting the call through", exc)
            return fallback

    def allow(self, endpoint: str, cfg: BreakerConfig) -> int:
        if cfg.local_cache > 0 and self._clean.fresh(endpoint):
            return ALLOWED_CLEAN
        drops = self._clean.drops()
        answer = int(self._run(self._allow, endpoint, cfg, ALLOWED))
        if answer == ALLOWED_CLEAN and cfg.local_cache > 0:
            self._clean.remember(endpoint, cfg.local_cache, drops)
        return answer

    # The writes below drop the cached answer after Redis has the change, not before: an
    # allow() that read Redis in between would otherwise cache the state from before it.
    def record_success(self, endpoint: str, cfg: BreakerConfig) -> None:
        if self._run(self._success, endpoint, cfg, None) != 0:  # reset something, or unknown
            self._clean.drop(endpoint)

    def record_failure(self, endpoint: str, cfg: BreakerConfig, reason: str = "") -> None:
        self._run(self._failure, endpoint, cfg, None, reason)
        self._clean.drop(endpoint)

    def release(self, endpoint: str) -> None:
        import redis

        try:
            self.client.hset(self._keys(endpoint)[0], "probe_until", 0)
        except redis.RedisError:
            pass
        self._clean.drop(endpoint)

    def snapshot(self, endpoint: str, cfg: BreakerConfig) -> dict:
        failures, opened, probe, last_error, now = self._run(self._peek, endpoint, cfg, [0, 0, 0, b"", time.time()])
        row = {"failures": int(failures), "opened_at": float(opened), "probe_until": float(probe),
               "last_error": last_error.decode() if isinstance(last_error, bytes) else last_error}
        return _describe(endpoint, row, float(now), cfg)

    def endpoints(self) -> list[str]:
        members = self.client.smembers(self._keys("")[1])
        alive = [m.decode() for m in members if self.client.exists(f"{self.prefix}{m.decode()}")]
        gone = [m for m in members if m.decode() not in alive]
        if gone:
            self.client.srem(self._keys("")[1], *gone)
        return sorted(alive)

    def clear(self) -> None:
        for key in self.client.scan_iter(f"{self.prefix}*"):
            self.client.delete(key)
        self._clean.drop()


def _describe(endpoint: str, row: dict, now: float, cfg: BreakerConfig) -> dict:
    state = _state_of(row["failures"], row["opened_at"], now, cfg)
    retry_after = max(0.0, row["opened_at"] + cfg.reset_timeout - now) if state == OPEN else 0.0
    return {"endpoint": endpoint, "state": state, "failures": row["failures"],
            "opened_at": row["opened_at"] or None, "retry_after": retry_after, "last_error": row["last_error"]}


class Breaker:
    """The breaker of one endpoint: ``allow()`` before a call, then record its outcome.

    ``execute`` makes one per call. ``success_changes_nothing`` is True when its ``allow()``
    found the endpoint known, closed and with no failure counted: recording the call's
    success would change nothing, so ``execute`` skips that round trip to the store. (A
    failure another worker records while this call is in flight is then not reset by this
    call's success; a later call sees it, once this process's cached answer has expired,
    and resets it. Overlapping calls have no order that would make either answer the
    "consecutive" one.)
    """

    def __init__(self, endpoint: str, store, config: BreakerConfig | None = None):
        self.endpoint, self.store = endpoint, store
        self.config = config or BreakerConfig()
        self.success_changes_nothing = False

    def allow(self) -> bool:
        answer = self.store.allow(self.endpoint, self.config)
        self.success_changes_nothing = answer == ALLOWED_CLEAN
        return answer != REFUSED

    def record_success(self) -> None:
        self.store.record_success(self.endpoint, self.config)

    def record_failure(self, reason: str = "") -> None:
        self.store.record_failure(self.endpoint, self.config, reason)

    def release(self) -> None:
        """Give back a half-open probe slot taken by a call that never reached the endpoint."""
        self.store.release(self.endpoint)

    def snapshot(self) -> dict:
        return self.store.snapshot(self.endpoint, self.config)

    @property
    def state(self) -> str:
        return self.snapshot()["state"]

    def retry_after(self) -> float:
        """Seconds until the circuit becomes half-open (0 unless open)."""
        return self.snapshot()["retry_after"]


class _AlwaysClosed:
    """Store used when the breaker is disabled in settings."""

    def allow(self, endpoint, cfg): return ALLOWED_CLEAN
    def record_success(self, endpoint, cfg): pass
    def record_failure(self, endpoint, cfg, reason=""): pass
    def release(self, endpoint): pass
    def snapshot(self, endpoint, cfg): return _describe(endpoint, {"failures": 0, "opened_at": 0.0, "probe_until": 0.0, "last_error": ""}, 0.0, cfg)
    def endpoints(self): return []


_memory_store = MemoryStore()
_redis_stores: dict[tuple[int, str], RedisStore] = {}
_stores_lock = threading.Lock()


def current_store():
    """The store the settings ask for; one Redis client per process (re-made after fork)."""
    if not conf.breaker_config()["enabled"]:
        return _AlwaysClosed()
    url = conf.redis_url()
    if not url:
        return _memory_store
    key = (os.getpid(), url)
    with _stores_lock:
        store = _redis_stores.get(key)
        if store is None:
            store = _redis_stores[key] = RedisStore(url)
        return store


def breaker_for(endpoint: str) -> Breaker:
    return Breaker(endpoint, current_store(), BreakerConfig.from_settings())


def breaker_states() -> list[dict]:
    """Every endpoint the breakers know, with state, failures and seconds until half-open."""
    store, cfg = current_store(), BreakerConfig.from_settings()
    return [store.snapshot(endpoint, cfg) for endpoint in store.endpoints()]


def reset_breakers() -> None:
    """Forget all breaker state of the current store (tests, or an operator's reset)."""
    store = current_store()
    if hasattr(store, "clear"):
        store.clear()
