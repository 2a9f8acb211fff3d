"""Celery's own trivial-task throughput and round trip, with Flowyard's broker settings.

``celery -A bench.celery_ref worker`` runs this separate app; its settings copy the
``CELERY_*`` values of ``config/settings.py`` in service mode (Redis broker and results,
late acks, prefetch multiplier 4) so the figure is the ceiling Flowyard's wake-ups live under.
"""
from __future__ import annotations

import os
import time

from celery import Celery

from bench.workers import redis_url

BROKER = os.environ.get("BENCH_CELERY_REF_URL", redis_url(11))
COUNTER = "bench:celery_ref:done"

app = Celery("bench_celery_ref", broker=BROKER, backend=BROKER, set_as_current=False)
app.conf.update(
    broker_transport_options={},
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=4,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
_redis = None


def _counter():
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(BROKER)
    return _redis


@app.task(name="bench.noop")
def noop_task() -> None:
    """The trivial task: one counter increment so the parent can see it ran."""
    _counter().incr(COUNTER)


@app.task(name="bench.echo", ignore_result=False)
def echo_task(value):
    return value


def throughput(n: int, timeout: float = 120.0) -> float:
    """Tasks/s from the first send until the workers have run all ``n``."""
    counter = _counter()
    counter.delete(COUNTER)
    start = time.monotonic()
    for _ in range(n):
        noop_task.delay()
    deadline = start + timeout
    while int(counter.get(COUNTER) or 0) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {counter.get(COUNTER)} of {n} trivial tasks ran in {timeout:.0f}s")
        time.sleep(0.002)
    return n / (time.monotonic() - start)


def round_trips(n: int) -> list[float]:
    """Seconds of ``n`` sequential send -> run -> result round trips."""
    samples = []
    for i in range(n):
        start = time.perf_counter()
        if echo_task.delay(i).get(timeout=30) != i:
            raise RuntimeError("echo task returned the wrong value")
        samples.append(time.perf_counter() - start)
    return samples
