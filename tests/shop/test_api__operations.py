"""The fake services' business answers and their idempotency, through Django's client."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_each_operation_answers_with_its_reference(post):
    reserve = post("inventory/reserve", {"order_id": 7, "items": [{"sku": "apple", "qty": 2}]}, key="7:a")
    charge = post("payments/charge", {"order_id": 7, "amount": 30}, key="7:b")
    ship = post("shipping/ship", {"order_id": 7, "address": "1 Main St"}, key="7:c")
    cancel = post("orders/cancel", {"order_id": 7}, key="7:d")

    assert reserve.status_code == 200 and reserve.json()["reservation_id"].startswith("res_")
    assert charge.json() == {"order_id": 7, "charge_id": charge.json()["charge_id"], "amount": 30}
    assert ship.json()["shipment_id"].startswith("sh_")
    assert cancel.json() == {"order_id": 7, "cancelled": True}


def test_compensations_refer_to_what_was_done(post):
    post("inventory/reserve", {"order_id": 8, "items": [{"sku": "pear"}]}, key="8:a")
    charge = post("payments/charge", {"order_id": 8, "amount": 12.5}, key="8:b").json()

    release = post("inventory/release", {"order_id": 8}, key="8:c").json()
    refund = post("payments/refund", {"order_id": 8}, key="8:d").json()

    assert release["released"] is True and release["reservation_id"].startswith("res_")
    assert refund["charge_id"] == charge["charge_id"] and refund["amount"] == 12.5
    assert post("inventory/release", {"order_id": 99}, key="99:c").json()["released"] is False


@pytest.mark.parametrize("path, body, status, code", [
    ("payments/charge", {"order_id": 1, "amount": 5001}, 402, "CARD_DECLINED"),
    ("payments/charge", {"order_id": 1, "amount": "ten"}, 422, "INVALID_AMOUNT"),
    ("payments/refund", {"order_id": 1}, 409, "NOTHING_TO_REFUND"),
    ("shipping/ship", {"order_id": 1}, 422, "ADDRESS_MISSING"),
    ("inventory/reserve", {"order_id": 1, "items": [{"sku": "a", "qty": 101}]}, 409, "OUT_OF_STOCK"),
    ("orders/cancel", {}, 422, "ORDER_ID_MISSING"),
    ("orders/cancel", "{not json", 400, "INVALID_JSON"),
])
def test_refusals_do_nothing(post, log, path, body, status, code):
    response = post(path, body, key="k1")

    assert response.status_code == status and response.json()["error"] == code
    assert log()["totals"] == {"calls": 1, "effects": 0}


def test_a_repeated_key_replays_the_first_answer_and_has_one_effect(post, log):
    first = post("payments/charge", {"order_id": 5, "amount": 40}, key="inst-5:exec-1")
    again = post("payments/charge", {"order_id": 5, "amount": 40}, key="inst-5:exec-1")

    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    entries = log(order_id=5)
    assert [c["outcome"] for c in entries["calls"]] == ["effect", "replay"]
    assert len(entries["effects"]) == 1
    assert entries["calls"][1]["effect"] == entries["effects"][0]["id"]


def test_keys_are_scoped_per_operation_and_missing_keys_mean_new_effects(post, log):
    post("payments/charge", {"order_id": 6, "amount": 1}, key="same")
    post("orders/cancel", {"order_id": 6}, key="same")
    post("orders/cancel", {"order_id": 6})
    post("orders/cancel", {"order_id": 6})

    assert log(order_id=6)["totals"] == {"calls": 4, "effects": 4}


def test_a_refused_key_can_succeed_later(post, log):
    assert post("shipping/ship", {"order_id": 4}, key="4:s").status_code == 422
    assert post("shipping/ship", {"order_id": 4, "address": "here"}, key="4:s").status_code == 200
    assert log(order_id=4)["totals"] == {"calls": 2, "effects": 1}


def test_only_post_and_an_index(client):
    assert client.get("/shop/api/payments/charge").status_code == 405
    index = client.get("/shop/api/").json()
    assert index["operations"]["payments/charge"] == "POST http://testserver/shop/api/payments/charge"
