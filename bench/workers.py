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
        replies = app.control.ping(destination=hostnames, timeout=timeout) or []
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


@contextmanager
def celery_workers(app: str, *, count: int, broker: str, env: dict | None = None,
                   concurrency: int = CONCURRENCY, ready_timeout: float = 60.0):
    """Run ``count`` worker processes of ``app``; yield their hostnames once all answer a ping."""
    tag = uuid.uuid4().hex[:6]
    hostnames = [f"bench{i}-{tag}@localhost" for i in range(count)]
    procs: list[tuple[subprocess.Popen, Path]] = []
    try:
        for i, hostname in enumerate(hostnames):
            log = log_path(f"worker-{app.replace('.', '_')}-{i}")
            with open(log, "w") as err:
                procs.append((subprocess.Popen(
                    [_celery_exe(), "-A", app, "worker", "--pool", POOL, "--concurrency", str(concurrency),
                     "--loglevel", "WARNING", "--hostname", hostname, "--without-gossip", "--without-mingle"],
                    cwd=REPO, env=child_env(env), stdout=err, stderr=subprocess.STDOUT), log))
        deadline = time.monotonic() + ready_timeout
        answered: set[str] = set()
        while answered != set(hostnames):
            for proc, log in procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"celery worker exited (rc={proc.returncode}): {log_tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery workers did not answer within {ready_timeout:.0f}s")
            answered |= _ping(broker, hostnames, timeout=0.5)
        yield hostnames
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # warm shutdown
        for proc, _ in procs:  # measuring is over: cold shutdown when a warm one takes long
            for wait, sig in ((3, signal.SIGQUIT), (10, signal.SIGKILL)):
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    proc.send_signal(sig)
            proc.wait()
