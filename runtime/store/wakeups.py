"""Wake-ups: Celery messages sent after the transaction commits.

A wake-up carries only ids; the task reloads the truth under a lock, so a duplicate or a
late delivery is harmless. Losing one (broker down, worker killed) is covered by the
reconciler, which re-sends from the rows (see runtime/jobs.py); so a failing send is
logged, never raised into the caller whose transaction already committed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction

log = logging.getLogger(__name__)


@dataclass
class Wakeups:
    pending: list[tuple[str, tuple, float | None]] = field(default_factory=list)

    def add(self, task_name: str, *args, countdown: float | None = None) -> None:
        self.pending.append((task_name, args, countdown))

    def send_on_commit(self) -> None:
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        transaction.on_commit(lambda: send_now(pending))


def send_now(pending: list[tuple[str, tuple, float | None]]) -> None:
    from runtime import tasks

    for task_name, args, countdown in pending:
        try:
            task = getattr(tasks, task_name)
            if countdown and countdown > 0:
                task.apply_async(args=args, countdown=countdown)
            else:
                task.apply_async(args=args)
        except Exception:  # the reconciler re-sends from the rows
            if task.app.conf.task_always_eager:  # eager (tests): the "send" ran the task; show its failure
                raise
            log.warning("could not send wake-up %s%r", task_name, args, exc_info=True)
