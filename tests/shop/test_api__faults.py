"""Failure injection: per-call flags and per-operation fault plans."""
from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.django_db


def plan(client, **body):
    return client.post("/shop/api/faults/", data=body, content_type="application/json")


def test_fail_flag_in_query_or_body_answers_that_status_and_does_nothing(post, log):
    by_query = post("payments/charge", {"order_id": 1, "amount": 5}, key="k", fail=503)
    by_body = post("payments/charge", {"order_id": 1, "amount": 5, "fail": "402"}, key="k")

    assert by_query.status_code == 503 and by_query.headers["Retry-After"] == "1"
    assert by_body.status_code == 402 and by_body.json()["error"] == "INJECTED_FAULT"
    assert [c["outcome"] for c in log()["calls"]] == ["fault", "fault"]
    assert log()["totals"]["effects"] == 0
    assert post("orders/cancel", {"order_id": 1, "fail": "nope"}).status_code == 400


def test_fail_the_next_n_calls_then_succeed_with_one_effect(client, post, log):
    assert plan(client, operation="payments/charge", status=503, count=2).status_code == 200

    statuses = [post("payments/charge", {"order_id": 2, "amount": 9}, key="2:x").status_code for _ in range(4)]

    assert statuses == [503, 503, 200, 200]
    assert [c["outcome"] for c in log()["calls"]] == ["fault", "fault", "effect", "replay"]
    assert log()["summary"]["payments/charge"] == {"calls": 4, "effects": 1}
    (fault,) = client.get("/shop/api/faults/").json()["faults"]
    assert fault["remaining"] == 0 and fault["active"] is False


def test_a_plan_without_count_lasts_until_cleared_and_star_means_every_operation(client, post):
    plan(client, operation="*", status=500)
    assert post("orders/cancel", {"order_id": 3}).status_code == 500
    assert post("shipping/ship", {"order_id": 3, "address": "x"}).status_code == 500

    client.post("/shop/api/faults/", data={"operation": "*", "clear": True}, content_type="application/json")
    assert post("orders/cancel", {"order_id": 3}).status_code == 200
    plan(client, operation="orders/cancel", status=503)
    assert client.delete("/shop/api/faults/").json() == {"cleared": 1}
    assert post("orders/cancel", {"order_id": 3}).status_code == 200


def test_a_lost_response_is_repaired_by_the_retry_with_the_same_key(client, post, log):
    plan(client, operation="payments/charge", status=503, count=1, after_effect=True)

    lost = post("payments/charge", {"order_id": 4, "amount": 20}, key="4:c")
    retry = post("payments/charge", {"order_id": 4, "amount": 20}, key="4:c")

    assert lost.status_code == 503 and retry.status_code == 200
    assert [c["outcome"] for c in log()["calls"]] == ["lost_response", "replay"]
    assert log()["totals"]["effects"] == 1


def test_delay_plans_and_flags_slow_the_answer(client, post):
    plan(client, operation="orders/cancel", status=0, delay=0.3, count=1)
    started = time.monotonic()
    assert post("orders/cancel", {"order_id": 5}).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert post("orders/cancel", {"order_id": 5, "delay": 0.2}).status_code == 200
    assert 0.2 <= time.monotonic() - started < 0.3 + 0.25


def test_bad_plans_are_refused(client):
    assert plan(client, operation="payments/steal").status_code == 400
    assert plan(client, operation="payments/charge", status=200).status_code == 400
    assert plan(client, operation="payments/charge", count="many").status_code == 400


def test_reset_forgets_everything(client, post, log):
    plan(client, operation="orders/cancel", status=503, count=1)
    post("orders/cancel", {"order_id": 6})
    post("orders/cancel", {"order_id": 6})

    assert client.post("/shop/api/reset/").json() == {"reset": True}
    assert log()["totals"] == {"calls": 0, "effects": 0}
    assert client.get("/shop/api/faults/").json() == {"faults": []}
