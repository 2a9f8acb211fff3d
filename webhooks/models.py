"""Webhook subscriptions and their deliveries (an outbox: a delivery row is written in the
transaction that changed the instance, so an event is never sent for a rolled-back change
and never lost for a committed one)."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class WebhookEvent(models.TextChoices):
    COMPLETED = "instance.completed"
    FAILED = "instance.failed"
    INCIDENT = "instance.incident"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Webhook(models.Model):
    """A URL that receives signed POSTs for the chosen events, for one process or all."""

    url = models.URLField(max_length=1000, help_text="receives POSTs with a JSON body")
    secret = models.CharField(max_length=200, default=new_secret,
                              help_text="key of the HMAC-SHA256 in the X-Flowyard-Signature header")
    events = models.JSONField(default=list, blank=True, help_text="event names; empty means every event")
    process_key = models.CharField(max_length=200, blank=True, default="", db_index=True,
                                   help_text="only instances of this process; empty means every process")
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.url} ({self.process_key or 'all processes'})"

    def wants(self, event: str, process_key: str) -> bool:
        return self.active and (not self.events or event in self.events) and self.process_key in ("", process_key)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One event for one webhook, across all its attempts."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    instance_id = models.BigIntegerField(db_index=True, help_text="the instance the event is about")
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=6)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} #{self.instance_id} -> {self.webhook_id} ({self.status})"
