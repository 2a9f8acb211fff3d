"""The embedded topology: a Celery worker and the timer scheduler inside the web process.

Celery's WorkController runs in a daemon thread with the thread pool on the in-memory
broker (polling every 10 ms), so `make run` needs no Redis and no second process.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from django.conf import settings

log = logging.getLogger(__name__)
_lock = threading.Lock()


@dataclass
class _Running:
    worker: object
    worker_thread: threading.Thread
    scheduler_stop: threading.Event
    scheduler_thread: threading.Thread


_running: _Running | None = None


def start_embedded_worker(*, concurrency: int = 4) -> bool:
    """Start the in-process worker and scheduler once; return True if this call started them."""
    global _running
    with _lock:
        if _running is not None:
            return False
        from config.celery import app
        from runtime import scheduler

        worker = app.WorkController(
            pool_cls="threads",
            concurrency=concurrency,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel="WARNING",
            hostname="embedded@flowyard",
        )
        worker_thread = threading.Thread(target=worker.start, name="flowyard-celery", daemon=True)
        stop = threading.Event()
        scheduler_thread = threading.Thread(target=scheduler.run_forever, args=(stop,), name="flowyard-scheduler", daemon=True)
        worker_thread.start()
        scheduler_thread.start()
        _running = _Running(worker, worker_thread, stop, scheduler_thread)
        log.info("embedded Celery worker started (broker %s)", settings.CELERY_BROKER_URL)
        return True


def stop_embedded_worker(timeout: float = 10.0) -> None:
    """Stop the scheduler loop and the worker and wait for both threads (bounded)."""
    global _running
    with _lock:
        running, _running = _running, None
    if running is None:
        return
    running.scheduler_stop.set()
    running.worker.stop(in_sighandler=False)
    running.scheduler_thread.join(timeout)
    running.worker_thread.join(timeout)


def embedded_running() -> bool:
    return _running is not None
