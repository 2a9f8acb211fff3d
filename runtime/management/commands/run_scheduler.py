"""python manage.py run_scheduler: the timer/reconciler loop as its own process (service mode)."""
from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from runtime import scheduler


class Command(BaseCommand):
    help = "Run the scheduler loop: fire due timers, schedule timer start events, re-send lost wake-ups."

    def add_arguments(self, parser):
        parser.add_argument("--tick", type=float, default=0.05, help="seconds between loop passes")

    def handle(self, *args, **opts):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        jobs = scheduler.registered_jobs()
        self.stdout.write(f"scheduler running: {', '.join(sorted(jobs))}")
        scheduler.run_forever(stop, tick=opts["tick"])
        self.stdout.write("scheduler stopped")
