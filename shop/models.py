"""The demo shop's rows: effects (what the fake services did), the call log, fault plans.

An effect is unique per (operation, Idempotency-Key): that constraint, not application
code, is what makes a key repeated by retries, by two workers racing or by a worker that
died after the call produce one effect.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q


class Operation(models.TextChoices):
    RESERVE = "inventory/reserve"
    RELEASE = "inventory/release"
    CHARGE = "payments/charge"
    REFUND = "payments/refund"
    SHIP = "shipping/ship"
    CANCEL = "orders/cancel"


class Effect(models.Model):
    operation = models.CharField(max_length=32, choices=Operation.choices)
    idempotency_key = models.CharField(max_length=255)
    order_id = models.CharField(max_length=100, blank=True, default="", db_index=True)
    request = models.JSONField(default=dict)
    status_code = models.PositiveSmallIntegerField(default=200)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["operation", "idempotency_key"], name="shop_effect_once_per_key")]

    def __str__(self) -> str:
        return f"{self.operation} order={self.order_id} key={self.idempotency_key}"


class CallOutcome(models.TextChoices):
    EFFECT = "effect", "performed the effect"
    REPLAY = "replay", "repeated key: answered the stored result"
    REFUSED = "refused", "business rule said no (4xx), nothing done"
    FAULT = "fault", "injected failure, nothing done"
    LOST_RESPONSE = "lost_response", "effect done, then an injected failure answered"
    INVALID = "invalid", "malformed request"


class Call(models.Model):
    operation = models.CharField(max_length=32, choices=Operation.choices)
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    order_id = models.CharField(max_length=100, blank=True, default="", db_index=True)
    request = models.JSONField(default=dict)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(default=dict)
    outcome = models.CharField(max_length=16, choices=CallOutcome.choices)
    effect = models.ForeignKey(Effect, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class Fault(models.Model):
    """A failure plan for one operation ('*' = every operation): answer ``status`` to the
    next ``remaining`` calls (null = until cleared), after waiting ``delay`` seconds."""

    ALL = "*"

    operation = models.CharField(max_length=32, unique=True)
    status = models.PositiveSmallIntegerField(default=503, help_text="0 = only the delay")
    remaining = models.PositiveIntegerField(null=True, blank=True)
    delay = models.FloatField(default=0.0)
    after_effect = models.BooleanField(default=False, help_text="do the effect, then fail (a lost response)")
    message = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    ACTIVE = Q(remaining__isnull=True) | Q(remaining__gt=0)

    class Meta:
        ordering = ["operation"]
