"""The demo processes' python handlers: deterministic answers and business errors."""
from __future__ import annotations

import pytest

from runtime import demo_handlers as h
from runtime.connectors import BusinessError, RetryableError


def test_score_credit_bands():
    assert h.score_credit({"amount": 1000, "income": 10000}, idempotency_key="k")["decision"] == "approve"
    assert h.score_credit({"amount": "4000", "income": 10000}, idempotency_key="k")["decision"] == "review"
    assert h.score_credit({"amount": 9000, "income": 10000}, idempotency_key="k") == {
        "score": 90.0, "ratio": 0.9, "decision": "reject"}
    with pytest.raises(BusinessError) as exc:
        h.score_credit({"amount": "lots", "income": 1}, idempotency_key="k")
    assert exc.value.code == "INVALID_INPUT"


def test_reserve_stock_is_deterministic_per_idempotency_key():
    items = {"items": [{"sku": "apple", "qty": 3}, {"sku": "plum"}]}
    first = h.reserve_stock(items, idempotency_key="i1:e1")
    assert first == h.reserve_stock(items, idempotency_key="i1:e1")
    assert first["reservation_id"] != h.reserve_stock(items, idempotency_key="i2:e1")["reservation_id"]
    assert first["items"] == [{"sku": "apple", "qty": 3}, {"sku": "plum", "qty": 1}]


@pytest.mark.parametrize("items, code", [
    ([{"sku": "melon", "qty": 1}], "OUT_OF_STOCK"),
    ([{"sku": "kiwi", "qty": 1}], "UNKNOWN_SKU"),
    ([], "INVALID_INPUT"),
])
def test_reserve_stock_refusals(items, code):
    with pytest.raises(BusinessError) as exc:
        h.reserve_stock({"items": items}, idempotency_key="k")
    assert exc.value.code == code


def test_quote_shipping_and_release():
    assert h.quote_shipping({"items": [{"sku": "a", "qty": 2}], "total": 20}, idempotency_key="k") == {
        "price": 7.3, "items": 2}
    assert h.quote_shipping({"items": [{"sku": "a"}], "total": 50}, idempotency_key="k")["price"] == 0.0
    assert h.release_stock({"reservation_id": "R-1"}, idempotency_key="k") == {"released": "R-1", "ok": True}


def test_flaky_echo_fails_the_planned_number_of_times_per_key():
    with pytest.raises(RetryableError):
        h.flaky_echo({"fail_times": 2, "x": 1}, idempotency_key="flaky-test")
    with pytest.raises(RetryableError):
        h.flaky_echo({"fail_times": 2, "x": 1}, idempotency_key="flaky-test")
    assert h.flaky_echo({"fail_times": 2, "x": 1}, idempotency_key="flaky-test")["attempts"] == 3
