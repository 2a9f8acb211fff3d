"""Webhook deliveries: queue on an instance event, sign, POST, retry with backoff.

The receiver checks ``X-Flowyard-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw
request body under the webhook's secret, and may drop duplicates by the body's ``id``
(the same on every attempt of one delivery). Settings (``FLOWYARD`` dict, defaults below):
``WEBHOOK_MAX_ATTEMPTS`` attempts in all, ``WEBHOOK_BACKOFF`` seconds before the second
attempt, doubling up to ``WEBHOOK_BACKOFF_MAX``, ``WEBHOOK_TIMEOUT`` seconds per POST.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import uuid
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks.models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent

log = logging.getLogger(__name__)

DEFAULTS = {"WEBHOOK_MAX_ATTEMPTS": 6, "WEBHOOK_BACKOFF": 10.0, "WEBHOOK_BACKOFF_MAX": 3600.0, "WEBHOOK_TIMEOUT": 10.0}
SIGNATURE_HEADER = "X-Flowyard-Signature"
USER_AGENT = "flowyard-webhook/1"
ERROR_LIMIT = 2000


def conf(key: str) -> Any:
    return (getattr(settings, "FLOWYARD", {}) or {}).get(key, DEFAULTS[key])


def body_of(payload: dict) -> bytes:
    """The exact bytes sent (and signed): the same on every attempt."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode("ascii")


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (shown here for the tests and for Python receivers)."""
    return hmac.compare_digest(sign(secret, body), header or "")


def backoff(attempts: int) -> float:
    return min(float(conf("WEBHOOK_BACKOFF")) * 2 ** max(attempts - 1, 0), float(conf("WEBHOOK_BACKOFF_MAX")))


# -- queueing -------------------------------------------------------------------------------

def _payload(instance, event: str, process_key: str, version: int | None) -> dict:
    body = {
        "id": uuid.uuid4().hex,
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "instance": {
            "id": instance.pk, "process": process_key, "version": version, "status": instance.status,
            "business_key": instance.business_key, "variables": instance.variables,
            "started_at": instance.started_at.isoformat() if instance.started_at else None,
            "ended_at": instance.ended_at.isoformat() if instance.ended_at else None,
        },
    }
    if event == WebhookEvent.INCIDENT:
        from runtime.models import Incident

        incident = Incident.objects.filter(instance_id=instance.pk).order_by("-id").first()
        if incident is not None:
            body["incident"] = {"id": incident.pk, "node": incident.node_id, "message": incident.message,
                                "error_code": incident.error_code or None}
    return body


# "No active webhook" is remembered for a moment: most installations have none, and the
# lookup was one query in every transaction that ends an instance. Saving or deleting a
# webhook forgets it at once in this process (webhooks/signals.py); another process notices
# within NO_WEBHOOKS_TTL seconds. A found webhook is never cached, so deliveries always see
# the current rows.
NO_WEBHOOKS_TTL = 1.0
_none_until = 0.0


def forget_no_webhooks() -> None:
    global _none_until
    _none_until = 0.0


def _active_webhooks() -> list[Webhook]:
    global _none_until
    if time.monotonic() < _none_until:
        return []
    hooks = list(Webhook.objects.filter(active=True))
    if not hooks:
        _none_until = time.monotonic() + NO_WEBHOOKS_TTL
    return hooks


def any_active_webhooks() -> bool:
    return bool(_active_webhooks())


def instance_event(*, instance, event: str) -> list[WebhookDelivery]:
    """Queue ``event`` for every active webhook that wants it; sent after the caller's
    transaction commits (nothing is sent for a change that rolls back)."""
    hooks = _active_webhooks()
    if not hooks:
        return []
    from designer.models import ProcessVersion

    key, number = ProcessVersion.objects.filter(pk=instance.version_id).values_list(
        "definition__key", "number").first() or ("", None)
    wanted = [h for h in hooks if h.wants(event, key)]
    if not wanted:
        return []
    payload = _payload(instance, event, key, number)
    attempts = int(conf("WEBHOOK_MAX_ATTEMPTS"))
    deliveries = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(webhook=h, event=event, instance_id=instance.pk, payload=payload, max_attempts=attempts)
        for h in wanted
    ])
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: send(ids))
    return deliveries


def send(delivery_ids: list[int], countdown: float | None = None) -> None:
    from webhooks.tasks import webhook_deliver_task

    for pk in delivery_ids:
        try:
            webhook_deliver_task.apply_async(args=[pk], countdown=countdown)
        except Exception:  # redeliver_due() picks the row up again
            log.warning("could not queue webhook delivery %s", pk, exc_info=True)


def redeliver_due(*, grace: float = 60.0) -> int:
    """Re-send wake-ups for pending deliveries whose attempt is overdue (a lost message,
    a worker killed mid-POST); safe to call often, the task re-checks the row."""
    cutoff = timezone.now() - dt.timedelta(seconds=grace)
    ids = list(WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=cutoff)
               .values_list("pk", flat=True)[:500])
    send(ids)
    return len(ids)


# -- one attempt ----------------------------------------------------------------------------

def _post(delivery: WebhookDelivery, url: str, secret: str) -> tuple[bool, int | None, str]:
    body = body_of(delivery.payload)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, SIGNATURE_HEADER: sign(secret, body),
               "X-Flowyard-Event": delivery.event, "X-Flowyard-Delivery": str(delivery.pk)}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=float(conf("WEBHOOK_TIMEOUT")),
                              follow_redirects=False)
    except httpx.HTTPError as exc:
        return False, None, f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
    if 200 <= response.status_code < 300:
        return True, response.status_code, ""
    return False, response.status_code, f"HTTP {response.status_code}: {response.text[:500]}"[:ERROR_LIMIT]


def delivery_attempt(*, delivery_id: int) -> str:
    """Make the next attempt of a delivery if it is due; return its status afterwards.

    The row is claimed under a lock with a lease (``next_attempt_at`` pushed past the
    timeout) and the POST runs outside any transaction, so a duplicate wake-up sees the
    lease and does nothing, and no database lock is held across the network.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return delivery.status if delivery else "missing"
        if delivery.next_attempt_at > now + dt.timedelta(seconds=1):
            return "not_due"
        webhook = Webhook.objects.get(pk=delivery.webhook_id)
        if not webhook.active:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "webhook deactivated"
            delivery.save(update_fields=["status", "last_error"])
            return delivery.status
        delivery.attempts += 1
        delivery.next_attempt_at = now + dt.timedelta(seconds=float(conf("WEBHOOK_TIMEOUT")) + 30)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    ok, code, error = _post(delivery, webhook.url, webhook.secret)
    finished = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.last_status_code = code
        delivery.last_error = error
        if ok:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = finished
        elif delivery.attempts >= delivery.max_attempts:
            delivery.status = DeliveryStatus.FAILED
        else:
            delay = backoff(delivery.attempts)
            delivery.next_attempt_at = finished + dt.timedelta(seconds=delay)
            transaction.on_commit(lambda: send([delivery_id], countdown=delay))
        delivery.save(update_fields=["last_status_code", "last_error", "status", "delivered_at", "next_attempt_at"])
    return delivery.status
