"""Reads for the shop's log page: calls, effects and a per-operation summary."""
from __future__ import annotations

from django.db.models import Count

from .models import Call, Effect, Fault, Operation


def _filters(order_id: str | None, operation: str | None, key: str | None) -> dict:
    found = {}
    if order_id:
        found["order_id"] = order_id
    if operation:
        found["operation"] = operation
    if key:
        found["idempotency_key"] = key
    return found


def call_log(*, order_id: str | None = None, operation: str | None = None, key: str | None = None,
             limit: int = 200) -> dict:
    """The newest ``limit`` calls and effects (oldest first), with totals over all of them."""
    where = _filters(order_id, operation, key)
    calls = Call.objects.filter(**where).order_by("-id")[:limit]
    effects = Effect.objects.filter(**where).order_by("-id")[:limit]
    call_counts = dict(Call.objects.filter(**where).values_list("operation").annotate(n=Count("id")))
    effect_counts = dict(Effect.objects.filter(**where).values_list("operation").annotate(n=Count("id")))
    return {
        "calls": [call_row(c) for c in reversed(calls)],
        "effects": [effect_row(e) for e in reversed(effects)],
        "summary": {op.value: {"calls": call_counts.get(op.value, 0), "effects": effect_counts.get(op.value, 0)}
                    for op in Operation},
        "totals": {"calls": sum(call_counts.values()), "effects": sum(effect_counts.values())},
    }


def call_row(call: Call) -> dict:
    return {"id": call.id, "at": call.created_at.isoformat(), "operation": call.operation,
            "order_id": call.order_id, "idempotency_key": call.idempotency_key, "status": call.status_code,
            "outcome": call.outcome, "effect": call.effect_id, "request": call.request, "response": call.response}


def effect_row(effect: Effect) -> dict:
    return {"id": effect.id, "at": effect.created_at.isoformat(), "operation": effect.operation,
            "order_id": effect.order_id, "idempotency_key": effect.idempotency_key, "result": effect.response}


def fault_list() -> list[dict]:
    return [{"operation": f.operation, "status": f.status, "remaining": f.remaining, "delay": f.delay,
             "after_effect": f.after_effect, "message": f.message,
             "active": f.remaining is None or f.remaining > 0} for f in Fault.objects.all()]
