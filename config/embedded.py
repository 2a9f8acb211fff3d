"""The embedded topology: a Celery worker and the timer scheduler inside the web process.

Celery's WorkController runs in a daemon thread with the thread pool on the in-memory
broker (polling every 10 ms), so `make run` needs no Redis and no second process.
"""
from __future__ import annotations

import logging
import threading

from django.conf import settings

log = logging.getLogger(__name__)
_started = threading.Event()
_lock = threading.Lock()
_worker = None
_scheduler_stop = threading.Event()


def start_embedded_worker(*, concurrency: int = 4) -> bool:
    """Start the in-process worker and scheduler once; return True if this call started them."""
    global _worker
    with _lock:
        if _started.is_set():
            return False
        from config.celery import app

        _worker = app.WorkController(
            pool_cls="threads",
            concurrency=concurrency,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel="WARNING",
            hostname="embedded@flowyard",
        )
        threading.Thread(target=_worker.start, name="flowyard-celery", daemon=True).start()
        _start_scheduler()
        _started.set()
        log.info("embedded Celery worker started (broker %s)", settings.CELERY_BROKER_URL)
        return True


def _start_scheduler() -> None:
    from runtime import scheduler

    _scheduler_stop.clear()
    threading.Thread(target=scheduler.run_forever, args=(_scheduler_stop,), name="flowyard-scheduler", daemon=True).start()


def stop_embedded_worker() -> None:
    """Stop the scheduler loop and the worker (tests call this before the database goes away)."""
    global _worker
    with _lock:
        if not _started.is_set():
            return
        _scheduler_stop.set()
        if _worker is not None:
            _worker.stop(in_sighandler=False)
            _worker = None
        _started.clear()


def embedded_running() -> bool:
    return _started.is_set()
