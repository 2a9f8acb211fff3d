"""Celery tasks: thin adapters that load by id and call the worker functions.

They are sent only from ``transaction.on_commit`` (runtime/store/wakeups.py) and by the
reconciler, carry nothing but ids, and are safe to run twice. A database that is briefly
busy (SQLite lock timeout, a PostgreSQL deadlock victim) is retried with backoff; the
reconciler catches whatever still slips through.
"""
from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from runtime import workers

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": 0.2, "retry_backoff_max": 5, "max_retries": 8,
         "retry_jitter": True}


@shared_task(name="runtime.instance_continue", **RETRY)
def instance_continue_task(instance_id: int) -> int:
    return workers.instance_continue(instance_id=instance_id)


@shared_task(name="runtime.timer_fire", **RETRY)
def timer_fire_task(job_id: int) -> bool:
    return workers.timer_fire(job_id=job_id)


@shared_task(name="runtime.service_call_execute", **RETRY)
def service_call_execute_task(call_id: int) -> str:
    return workers.service_call_execute(call_id=call_id)


@shared_task(name="runtime.message_publish", **RETRY)
def message_publish_task(continuation_id: int) -> None:
    workers.outbound_deliver(continuation_id=continuation_id)


@shared_task(name="runtime.signal_throw", **RETRY)
def signal_throw_task(continuation_id: int) -> None:
    workers.outbound_deliver(continuation_id=continuation_id)
