"""The demo order saga against the shop over real HTTP: the happy path, a flaky service
that loses two responses, and the two business errors that undo the completed steps."""
from __future__ import annotations

import pytest

from runtime import services
from runtime.models import HistoryEvent, ProcessInstance, ServiceCall
from tests.orchestration.conftest import deploy_saga, describe_instance, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def run_order(shop, order_id: str, **variables) -> ProcessInstance:
    """Start one order and wait until it ends; fail with what it was doing otherwise."""
    instance = services.instance_start(process_key="order_saga", business_key=order_id,
                                       variables=shop.variables(order_id, **variables))
    wait_for(lambda: ProcessInstance.objects.get(pk=instance.pk).status not in ("running", "compensating"),
             what=f"order {order_id} to end", explain=lambda: describe_instance(instance.pk))
    instance.refresh_from_db()
    return instance


def test_happy_path_reserves_charges_and_ships_once_each(shop, worker):
    deploy_saga()
    instance = run_order(shop, "A-1")

    assert instance.status == "completed" and instance.state["ended_by"] == "EndEvent_shipped"
    assert shop.calls("A-1") == [("inventory/reserve", 200, "effect"), ("payments/charge", 200, "effect"),
                                 ("shipping/ship", 200, "effect")]
    assert instance.variables["payment"]["amount"] == 30
    assert instance.variables["shipment"]["tracking"]
    keys = {c["idempotency_key"] for c in shop.log(order_id="A-1")["calls"]}
    assert keys == {f"{instance.pk}:{c.wait_id}" for c in ServiceCall.objects.filter(instance=instance)}


def test_a_service_that_loses_two_responses_is_called_three_times_for_one_effect(shop, worker):
    deploy_saga()
    # The charge happens, then the answer is lost, twice: only the idempotency key, the
    # same on every retry, keeps the card from being charged three times.
    shop.fault("payments/charge", status=502, count=2, after_effect=True)
    instance = run_order(shop, "A-2")

    assert instance.status == "completed" and instance.state["ended_by"] == "EndEvent_shipped"
    charges = shop.log(order_id="A-2", operation="payments/charge")
    assert [c["outcome"] for c in charges["calls"]] == ["lost_response", "lost_response", "replay"]
    assert charges["summary"]["payments/charge"] == {"calls": 3, "effects": 1}
    assert len({c["idempotency_key"] for c in charges["calls"]}) == 1
    call = ServiceCall.objects.get(instance=instance, node_id="Task_charge")
    assert call.attempt == 3 and call.state == "succeeded"
    assert instance.variables["payment"] == charges["effects"][0]["result"]


def test_a_declined_card_releases_the_stock_and_cancels_without_a_refund(shop, worker):
    deploy_saga()
    instance = run_order(shop, "A-3", amount=9000)  # above the shop's 5000 limit: 402

    assert instance.status == "completed" and instance.state["ended_by"] == "EndEvent_cancelled"
    assert shop.calls("A-3") == [
        ("inventory/reserve", 200, "effect"),
        ("payments/charge", 402, "refused"),      # a business error: never retried
        ("inventory/release", 200, "effect"),     # compensation of the one completed step
        ("orders/cancel", 200, "effect"),
    ]
    assert "payments/refund" not in shop.effects("A-3")  # the charge never completed
    assert handlers_run(instance) == ["Task_release"]


def test_a_refused_shipment_refunds_releases_and_cancels_in_that_order(shop, worker):
    deploy_saga()
    instance = run_order(shop, "A-4", address="")  # the shop refuses it: 422

    assert instance.status == "completed" and instance.state["ended_by"] == "EndEvent_cancelled"
    assert shop.calls("A-4") == [
        ("inventory/reserve", 200, "effect"),
        ("payments/charge", 200, "effect"),
        ("shipping/ship", 422, "refused"),
        ("payments/refund", 200, "effect"),       # newest completed step first
        ("inventory/release", 200, "effect"),
        ("orders/cancel", 200, "effect"),
    ]
    refund = shop.log(order_id="A-4", operation="payments/refund")["effects"][0]["result"]
    assert refund["charge_id"] == instance.variables["payment"]["charge_id"]
    assert handlers_run(instance) == ["Task_refund", "Task_release"]
    statuses = list(HistoryEvent.objects.filter(instance=instance, type="instance.status")
                    .order_by("seq").values_list("to_state", flat=True))
    assert statuses[-3:] == ["compensating", "running", "completed"]


def handlers_run(instance) -> list[str]:
    """Compensation handlers that completed, in the order the history recorded them."""
    return list(HistoryEvent.objects.filter(instance=instance, type="activity.completed",
                                            node_id__in=["Task_release", "Task_refund"])
                .order_by("seq").values_list("node_id", flat=True))
