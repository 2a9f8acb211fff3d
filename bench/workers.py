"""Real Celery worker processes for the bench: start, wait until they answer, stop.

Workers run exactly as Flowyard's compose file runs them (``--pool threads --concurrency 8``)
so the Celery reference and Flowyard see the same worker settings.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from bench.measure import REPO, child_env, log_path, log_tail

#: Same Redis server as Flowyard; each system its own database number so queues never mix.
REDIS_SERVER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
POOL, CONCURRENCY = "threads", 8


def redis_url(db: int) -> str:
    return f"{REDIS_SERVER.rstrip('/')}/{db}"


def redis_available(url: str) -> str:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        return ""
    except Exception as exc:
        return f"Redis not reachable at {url}: {type(exc).__name__}: {exc}"


def _celery_exe() -> str:
    candidate = Path(sys.executable).with_name("celery")
    return str(candidate) if candidate.exists() else "celery"


def _ping(broker: str, hostnames: list[str], timeout: float) -> set[str]:
    from celery import Celery

    app = Celery("bench-ping", broker=broker, set_as_current=False)
    try:
        # limit: return as soon as every worker asked has answered, not after the whole timeout
        replies = app.control.ping(destination=hostnames, timeout=timeout, limit=len(hostnames)) or []
    finally:
        app.close()
    return {name for reply in replies for name in reply}


def purge(broker: str) -> int:
    """Drop waiting messages of the default queue on ``broker`` (the bench's own Redis db)."""
    from celery import Celery

    app = Celery("bench-purge", broker=broker, set_as_current=False)
    try:
        return app.control.purge()
    finally:
        app.close()


class _Worker:
    def __init__(self, app: str, index: int, env: dict | None, concurrency: int, tag: str):
        self.hostname = f"bench{index}-{tag}@localhost"
        self.log = log_path(f"worker-{app.replace('.', '_')}-{index}")
        args = ["-A", app, "worker", "--pool", POOL, "--concurrency", str(concurrency),
                "--loglevel", "WARNING", "--hostname", self.hostname, "--without-gossip", "--without-mingle"]
        # A real ``celery`` process, never forked from a zygote: settings read the command
        # line once at import (a worker keeps its database connections, CONN_MAX_AGE 300),
        # and a worker forked from a zygote had the zygote's settings instead: a new
        # PostgreSQL backend for every wake-up, and no prepared statement outliving one.
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen([_celery_exe(), *args], cwd=REPO, env=child_env(env), stdout=err,
                                         stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc.poll() is None


#: Worker pools kept between ``celery_workers`` blocks inside ``keep_workers()``, by
#: (app, broker, env, concurrency): starting a Django worker costs seconds under load.
_POOLS: dict[tuple, list[_Worker]] = {}
_KEEP = False


_DYING: list[_Worker] = []


def _stop(workers: list[_Worker], wait: bool = True) -> None:
    """Cold shutdown (SIGQUIT): measuring is over, and a warm one waits a broker poll or more.
    Without ``wait`` they are reaped by the next ``_stop`` that waits."""
    for w in workers:
        if w.alive():
            w.proc.send_signal(signal.SIGQUIT)
    if not wait:
        _DYING.extend(workers)
        return
    workers = workers + _DYING
    _DYING.clear()
    for w in workers:
        try:
            w.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()


def stop_workers(keep_apps: set[str] = frozenset()) -> None:
    """Stop every kept pool whose app is not in ``keep_apps``."""
    for key in [k for k in _POOLS if k[0] not in keep_apps]:
        _stop(_POOLS.pop(key))
    _stop([])  # reap the surplus workers stopped without waiting


@contextmanager
def keep_workers():
    """Inside this block, worker pools outlive their ``celery_workers`` block (see ``stop_workers``)."""
    global _KEEP
    _KEEP = True
    try:
        yield
    finally:
        _KEEP = False
        stop_workers()


@contextmanager
def celery_workers(app: str, *, count: int, broker: str, env: dict | None = None,
                   concurrency: int = CONCURRENCY, ready_timeout: float = 60.0):
    """Run ``count`` worker processes of ``app``; yield their hostnames once all answer a ping.

    Inside ``keep_workers()`` a pool of the same app, broker and env left by an earlier block
    is reused (grown or shrunk to ``count``) and left running afterwards.
    """
    key = (app, broker, tuple(sorted((env or {}).items())), concurrency)
    pool = [w for w in _POOLS.pop(key, []) if w.alive()]
    try:
        _stop(pool[count:], wait=False)  # a surplus worker leaves while the rest are pinged
        del pool[count:]
        tag = uuid.uuid4().hex[:6]
        pool += [_Worker(app, i, env, concurrency, tag) for i in range(len(pool), count)]
        hostnames = [w.hostname for w in pool]
        deadline = time.monotonic() + ready_timeout
        answered: set[str] = set()
        while answered != set(hostnames):
            for w in pool:
                if not w.alive():
                    raise RuntimeError(f"celery worker exited (rc={w.proc.returncode}): {log_tail(w.log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery workers did not answer within {ready_timeout:.0f}s")
            answered |= _ping(broker, [h for h in hostnames if h not in answered], timeout=0.5)
        yield hostnames
    except BaseException:
        _stop(pool)
        raise
    if _KEEP:
        _POOLS[key] = pool
    else:
        _stop(pool)
