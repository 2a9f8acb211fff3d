"""The http connector against the shop served by a live server on 127.0.0.1: retries with
one idempotency key give one effect, whatever failed in between."""
from __future__ import annotations

import threading

import pytest

from runtime.connectors import CallRequest, breaker, conf, execute, http


@pytest.fixture
def shop_url(live_server, transactional_db, monkeypatch):
    monkeypatch.setattr(breaker, "_memory_store", breaker.MemoryStore())
    monkeypatch.setattr(conf, "redis_url", lambda: "")
    monkeypatch.setattr(conf, "breaker_config", lambda: {**conf.BREAKER_DEFAULTS, "failure_threshold": 3})
    yield f"{live_server.url}/shop/api"
    # Kept-alive sockets hold live-server threads, and with them database connections
    # that would stop the test database from being dropped.
    http.close_client()


def call(url, body, key, timeout=5.0):
    return execute(CallRequest("http", {"method": "POST", "url": url, "headers": None, "body": body}, {}, key, timeout))


def shop_log(**filters):
    from shop.selectors import call_log

    return call_log(**filters)


def test_flaky_service_three_calls_one_effect(shop_url):
    from shop.services import fault_set

    fault_set(operation="payments/charge", status=503, count=2)
    outcomes = [call(f"{shop_url}/payments/charge", {"order_id": 1, "amount": 30}, "1:charge") for _ in range(3)]

    assert [o.status for o in outcomes] == ["retryable", "retryable", "ok"]
    assert outcomes[0].retry_after == 1.0
    assert shop_log(order_id="1")["summary"]["payments/charge"] == {"calls": 3, "effects": 1}


def test_a_lost_response_is_retried_into_the_same_effect(shop_url):
    from shop.services import fault_set

    fault_set(operation="inventory/reserve", status=502, count=1, after_effect=True)
    first = call(f"{shop_url}/inventory/reserve", {"order_id": 2, "items": [{"sku": "a"}]}, "2:reserve")
    second = call(f"{shop_url}/inventory/reserve", {"order_id": 2, "items": [{"sku": "a"}]}, "2:reserve")

    assert first.status == "retryable" and second.status == "ok"
    assert shop_log(order_id="2")["totals"] == {"calls": 2, "effects": 1}
    assert shop_log(order_id="2")["effects"][0]["result"] == second.result


def test_declined_payment_is_business_error_http_402(shop_url):
    outcome = call(f"{shop_url}/payments/charge", {"order_id": 3, "amount": 9000}, "3:charge")

    assert outcome.status == "business_error" and outcome.error_code == "HTTP_402"
    assert "CARD_DECLINED" in outcome.detail
    assert shop_log(order_id="3")["totals"]["effects"] == 0


def test_concurrent_duplicates_make_one_effect(shop_url):
    from django.db import connection

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the live server shares one in-memory SQLite connection across threads; "
                    "set SQLITE_TEST_PATH or use PostgreSQL")
    barrier, outcomes = threading.Barrier(6), []

    def worker():
        barrier.wait(timeout=5)
        outcomes.append(call(f"{shop_url}/shipping/ship", {"order_id": 4, "address": "x"}, "4:ship"))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)

    assert [o.status for o in outcomes] == ["ok"] * 6
    assert len({o.result["shipment_id"] for o in outcomes}) == 1
    assert shop_log(order_id="4")["totals"] == {"calls": 6, "effects": 1}


def test_a_dead_shop_opens_the_breaker_and_is_left_alone(shop_url):
    from shop.services import fault_set

    fault_set(operation="*", status=503)
    outcomes = [call(f"{shop_url}/orders/cancel", {"order_id": 5}, "5:cancel") for _ in range(5)]

    assert [o.circuit_open for o in outcomes] == [False, False, False, True, True]
    assert shop_log(order_id="5")["totals"]["calls"] == 3
