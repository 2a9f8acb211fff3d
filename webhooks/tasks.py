"""Celery adapter: load the delivery by id, make its attempt (safe to run twice)."""
from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from webhooks import services


@shared_task(name="webhooks.deliver", autoretry_for=(OperationalError,), retry_backoff=0.5, retry_backoff_max=10,
             max_retries=8, retry_jitter=True)
def webhook_deliver_task(delivery_id: int) -> str:
    return services.delivery_attempt(delivery_id=delivery_id)
