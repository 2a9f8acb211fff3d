"""The scheduler loop: runs registered periodic jobs (fire due timers, reconcile wake-ups).

In the embedded topology it is a daemon thread of the web process; in service mode it is
`python manage.py run_scheduler`. Jobs are plain callables registered with `periodic()`;
each must be safe to run in several scheduler processes at once (they claim rows with
SKIP LOCKED), so running two schedulers is wasteful but never wrong.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from django.db import close_old_connections

log = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    name: str
    func: Callable[[], object]
    every: float
    next_run: float = field(default=0.0)


_jobs: dict[str, PeriodicJob] = {}


def periodic(every: float, name: str | None = None):
    """Decorator: run the function every `every` seconds in the scheduler loop."""

    def register(func: Callable[[], object]):
        key = name or f"{func.__module__}.{func.__qualname__}"
        _jobs[key] = PeriodicJob(key, func, every)
        return func

    return register


def registered_jobs() -> dict[str, PeriodicJob]:
    _load_job_modules()
    return dict(_jobs)


def _load_job_modules() -> None:
    # Importing the modules registers their jobs; kept here so the loop owns its wiring.
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("jobs")


def run_due(now: float | None = None) -> int:
    """Run every job whose time has come; return how many ran. One failure never stops the loop."""
    now = time.monotonic() if now is None else now
    ran = 0
    for job in list(_jobs.values()):
        if job.next_run > now:
            continue
        job.next_run = now + job.every
        try:
            job.func()
        except Exception:  # the loop must survive a bad tick; the error is logged with its stack
            log.exception("scheduler job %s failed", job.name)
        finally:
            close_old_connections()
        ran += 1
    return ran


def run_forever(stop: threading.Event | None = None, tick: float = 0.05) -> None:
    _load_job_modules()
    stop = stop or threading.Event()
    log.info("scheduler started with jobs: %s", ", ".join(sorted(_jobs)) or "none")
    while not stop.is_set():
        run_due()
        stop.wait(tick)
