"""What the fake services do: business rules per operation, idempotency, fault plans.

``shop_call`` handles one request in this order: request flags (``fail``/``delay``), the
fault plan, then, in one transaction, the idempotency check and the effect with its log
row. Faults come before idempotency on purpose: a service that is down is down for
repeated keys too.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import Call, CallOutcome, Effect, Fault, Operation

CHARGE_LIMIT = 5000
RESERVE_LIMIT = 100
MAX_DELAY = 60.0


@dataclass
class Answer:
    status: int
    body: dict
    replayed: bool = False
    headers: dict = field(default_factory=dict)


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _ref(prefix: str, operation: str, key: str) -> str:
    return f"{prefix}_" + hashlib.sha256(f"{operation}|{key}".encode()).hexdigest()[:12]


def _amount(body: dict) -> float:
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
        raise Refused(422, "INVALID_AMOUNT", "'amount' must be a positive number")
    return amount


def _last_effect(operation: str, order_id: str) -> Effect | None:
    return Effect.objects.filter(operation=operation, order_id=order_id).order_by("-id").first()


def _reserve(body, key):
    items = body.get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("sku") for i in items):
        raise Refused(422, "INVALID_ITEMS", "'items' must be a list of {sku, qty}")
    for item in items:
        if int(item.get("qty", 1)) > RESERVE_LIMIT:
            raise Refused(409, "OUT_OF_STOCK", f"{item['sku']}: at most {RESERVE_LIMIT} per order")
    return {"reservation_id": _ref("res", Operation.RESERVE, key), "items": items}


def _release(body, key):
    reserved = _last_effect(Operation.RESERVE, str(body["order_id"]))
    return {"released": reserved is not None,
            "reservation_id": reserved.response.get("reservation_id") if reserved else None}


def _charge(body, key):
    amount = _amount(body)
    if amount > CHARGE_LIMIT:
        raise Refused(402, "CARD_DECLINED", f"charges above {CHARGE_LIMIT} are declined")
    return {"charge_id": _ref("ch", Operation.CHARGE, key), "amount": amount}


def _refund(body, key):
    charge = _last_effect(Operation.CHARGE, str(body["order_id"]))
    if charge is None:
        raise Refused(409, "NOTHING_TO_REFUND", f"order {body['order_id']} has no charge")
    return {"refund_id": _ref("re", Operation.REFUND, key), "charge_id": charge.response["charge_id"],
            "amount": charge.response["amount"]}


def _ship(body, key):
    if not body.get("address"):
        raise Refused(422, "ADDRESS_MISSING", "'address' is required")
    shipment = _ref("sh", Operation.SHIP, key)
    return {"shipment_id": shipment, "tracking": shipment.upper()[3:]}


def _cancel(body, key):
    return {"cancelled": True}


RULES: dict[str, Callable[[dict, str], dict]] = {
    Operation.RESERVE: _reserve, Operation.RELEASE: _release, Operation.CHARGE: _charge,
    Operation.REFUND: _refund, Operation.SHIP: _ship, Operation.CANCEL: _cancel,
}


def _log(operation, key, body, answer: Answer, outcome, effect=None) -> Answer:
    Call.objects.create(operation=operation, idempotency_key=key, order_id=str(body.get("order_id", ""))[:100],
                        request=body, status_code=answer.status, response=answer.body, outcome=outcome,
                        effect=effect)
    return answer


def _take_fault(operation: str) -> Fault | None:
    """Consume one call of the active fault plan for ``operation`` (or '*'), atomically."""
    for fault in Fault.objects.filter(Fault.ACTIVE, operation__in=[operation, Fault.ALL]).order_by("-operation"):
        if fault.remaining is None:
            return fault
        if Fault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1):
            return fault
    return None


def _fault_answer(status: int, operation: str, message: str) -> Answer:
    headers = {"Retry-After": "1"} if status in (429, 503) else {}
    return Answer(status, {"error": "INJECTED_FAULT", "status": status, "operation": operation,
                           "message": message or f"injected {status}"}, headers=headers)


def shop_call(*, operation: str, key: str, body: Any, fail: str | None = None) -> Answer:
    """Handle one call of a fake service; see the module docstring for the order of checks."""
    if not isinstance(body, dict):
        return _log(operation, key, {}, Answer(400, {"error": "INVALID_JSON", "message": "send a JSON object"}),
                    CallOutcome.INVALID)
    delay = body.get("delay")
    if isinstance(delay, (int, float)) and not isinstance(delay, bool) and delay > 0:
        time.sleep(min(float(delay), MAX_DELAY))
    fail = fail or body.get("fail")
    if fail:
        try:
            status = int(fail)
        except (TypeError, ValueError):
            status = 0
        if not 400 <= status <= 599:
            return _log(operation, key, body, Answer(400, {"error": "INVALID_FAIL", "message": "fail: 400-599"}),
                        CallOutcome.INVALID)
        return _log(operation, key, body, _fault_answer(status, operation, "requested by the 'fail' flag"),
                    CallOutcome.FAULT)
    fault = _take_fault(operation)
    if fault is not None and fault.delay:
        time.sleep(min(fault.delay, MAX_DELAY))
    if fault is not None and fault.status and not fault.after_effect:
        return _log(operation, key, body, _fault_answer(fault.status, operation, fault.message), CallOutcome.FAULT)
    if body.get("order_id") in (None, ""):
        return _log(operation, key, body, Answer(422, {"error": "ORDER_ID_MISSING", "message": "'order_id' is required"}),
                    CallOutcome.INVALID)
    lose = None
    if fault is not None and fault.status and fault.after_effect:
        lose = _fault_answer(fault.status, operation, fault.message or "effect done, response lost")
    return _perform(operation, key or f"no-key-{uuid.uuid4().hex}", key, body, lose)


def _perform(operation: str, effect_key: str, key: str, body: dict, lose: Answer | None) -> Answer:
    """The effect and its log row in one transaction; a repeated key replays the first answer.
    With ``lose``, the effect happens but ``lose`` is answered (a response lost on the way)."""
    with transaction.atomic():
        effect = Effect.objects.filter(operation=operation, idempotency_key=effect_key).first()
        outcome = CallOutcome.REPLAY
        if effect is None:
            try:
                result = {"order_id": body["order_id"], **RULES[operation](body, effect_key)}
            except Refused as refused:
                answer = Answer(refused.status, {"error": refused.code, "message": refused.message})
                return _log(operation, key, body, answer, CallOutcome.REFUSED)
            try:
                with transaction.atomic():  # a racing request with the same key may insert first
                    effect = Effect.objects.create(operation=operation, idempotency_key=effect_key,
                                                   order_id=str(body["order_id"])[:100], request=body, response=result)
                outcome = CallOutcome.EFFECT
            except IntegrityError:
                effect = Effect.objects.get(operation=operation, idempotency_key=effect_key)
        if lose is not None:
            return _log(operation, key, body, lose, CallOutcome.LOST_RESPONSE, effect)
        answer = Answer(effect.status_code, effect.response)
        if outcome == CallOutcome.REPLAY:
            answer.replayed, answer.headers = True, {"Idempotent-Replayed": "true"}
        return _log(operation, key, body, answer, outcome, effect)


def fault_set(*, operation: str, status: int = 503, count: int | None = None, delay: float = 0.0,
              after_effect: bool = False, message: str = "") -> Fault:
    """Install (or replace) the fault plan of ``operation``."""
    fault, _ = Fault.objects.update_or_create(operation=operation, defaults={
        "status": status, "remaining": count, "delay": delay, "after_effect": after_effect, "message": message})
    return fault


def fault_clear(*, operation: str | None = None) -> int:
    query = Fault.objects.all() if operation is None else Fault.objects.filter(operation=operation)
    return query.delete()[0]


def shop_reset() -> None:
    """Forget every call, effect and fault plan (demo restarts and tests)."""
    with transaction.atomic():
        Call.objects.all().delete()
        Effect.objects.all().delete()
        Fault.objects.all().delete()
