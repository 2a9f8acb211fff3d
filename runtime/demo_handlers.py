"""Python handlers used by the bundled demo processes (``flowyard:connector="python"``).

Allow-listed by default through the ``"runtime.demo_handlers."`` prefix. Each follows the
python connector's contract, ``handler(inputs, *, idempotency_key)`` returning JSON, and is
deterministic: the same inputs give the same answer, so a retried call is harmless.
``flaky_echo`` is the one exception on purpose; it exists to show retries.
"""
from __future__ import annotations

import hashlib
import threading
from typing import Any

from runtime.connectors import BusinessError, RetryableError

#: Stock on hand in the demo catalogue; reservations do not consume it (no state).
CATALOGUE = {"apple": 100, "pear": 40, "plum": 5, "melon": 0}


def _number(inputs: dict, key: str) -> float:
    value = inputs.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise BusinessError("INVALID_INPUT", f"{key!r} must be a number, got {value!r}") from None
    return float(value)


def score_credit(inputs: dict, *, idempotency_key: str) -> dict:
    """Risk score 0-100 (higher is riskier) from the loan ``amount`` and yearly ``income``.

    The ratio amount/income drives it: below 0.2 approve, up to 0.5 review, above reject.
    """
    amount, income = _number(inputs, "amount"), _number(inputs, "income")
    if amount <= 0 or income <= 0:
        raise BusinessError("INVALID_APPLICATION", "amount and income must be positive")
    ratio = amount / income
    score = round(min(100.0, ratio * 100), 1)
    decision = "approve" if ratio < 0.2 else "review" if ratio <= 0.5 else "reject"
    return {"score": score, "ratio": round(ratio, 4), "decision": decision}


def _reservation_id(idempotency_key: str) -> str:
    return "R-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]


def _items(inputs: dict) -> list[dict]:
    items = inputs.get("items")
    if not isinstance(items, list) or not items:
        raise BusinessError("INVALID_INPUT", "'items' must be a non-empty list of {sku, qty}")
    for item in items:
        if not isinstance(item, dict) or "sku" not in item:
            raise BusinessError("INVALID_INPUT", f"bad item {item!r}; expected {{sku, qty}}")
    return items


def reserve_stock(inputs: dict, *, idempotency_key: str) -> dict:
    """Reserve ``items`` ([{sku, qty}]) against the catalogue; OUT_OF_STOCK if any is short.

    The reservation id derives from the idempotency key, so a retry returns the same one.
    """
    lines = []
    for item in _items(inputs):
        sku, qty = str(item["sku"]), int(_number(item, "qty") if "qty" in item else 1)
        if sku not in CATALOGUE:
            raise BusinessError("UNKNOWN_SKU", f"no product {sku!r}")
        if qty > CATALOGUE[sku]:
            raise BusinessError("OUT_OF_STOCK", f"{sku}: {qty} wanted, {CATALOGUE[sku]} on hand")
        lines.append({"sku": sku, "qty": qty})
    return {"reservation_id": _reservation_id(idempotency_key), "items": lines}


def release_stock(inputs: dict, *, idempotency_key: str) -> dict:
    """Compensation of ``reserve_stock``: releasing is always possible and idempotent."""
    return {"released": inputs.get("reservation_id"), "ok": True}


def quote_shipping(inputs: dict, *, idempotency_key: str) -> dict:
    """Shipping price: 4.90 base plus 1.20 per item, free from an order ``total`` of 50."""
    count = sum(int(_number(i, "qty")) if "qty" in i else 1 for i in _items(inputs))
    total = _number(inputs, "total") if "total" in inputs else 0.0
    price = 0.0 if total >= 50 else round(4.90 + 1.20 * count, 2)
    return {"price": price, "items": count}


_attempts: dict[str, int] = {}
_attempts_lock = threading.Lock()


def flaky_echo(inputs: dict, *, idempotency_key: str) -> Any:
    """Fail the first ``fail_times`` (default 1) calls of each idempotency key, then echo
    ``inputs``. Counts are per worker process; it demonstrates retries, nothing more."""
    with _attempts_lock:
        seen = _attempts[idempotency_key] = _attempts.get(idempotency_key, 0) + 1
    if seen <= int(inputs.get("fail_times", 1)):
        raise RetryableError(f"flaky_echo: planned failure {seen}")
    return {"echo": inputs, "attempts": seen}
