"""The call log: filters, limits and per-operation counts."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_filters_and_summary(post, log):
    for order in (1, 2):
        post("inventory/reserve", {"order_id": order, "items": [{"sku": "a"}]}, key=f"{order}:r")
        post("inventory/reserve", {"order_id": order, "items": [{"sku": "a"}]}, key=f"{order}:r")
        post("orders/cancel", {"order_id": order}, key=f"{order}:c")

    one = log(order_id=1)
    assert [(c["operation"], c["outcome"]) for c in one["calls"]] == [
        ("inventory/reserve", "effect"), ("inventory/reserve", "replay"), ("orders/cancel", "effect")]
    assert one["summary"]["inventory/reserve"] == {"calls": 2, "effects": 1}
    assert one["summary"]["payments/charge"] == {"calls": 0, "effects": 0}
    assert log(operation="orders/cancel")["totals"] == {"calls": 2, "effects": 2}
    assert log(key="2:r")["totals"] == {"calls": 2, "effects": 1}


def test_limit_keeps_the_newest_calls_oldest_first(post, log):
    for n in range(5):
        post("orders/cancel", {"order_id": n})

    calls = log(limit=2)["calls"]
    assert [c["order_id"] for c in calls] == ["3", "4"]
    assert log(limit=2)["totals"]["calls"] == 5
