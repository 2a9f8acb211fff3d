"""Exhausted retries become an incident; the instance keeps running with its incident flag;
once the service is fixed, an operator's retry (service, admin action or REST API) completes it
with the same idempotency key, so the shop still sees one shipment."""
from __future__ import annotations

import httpx
import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from runtime import services
from runtime.models import Incident, ProcessInstance, ServiceCall
from tests.orchestration.conftest import deploy_saga, describe_instance, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def start_until_incident(shop, order_id: str) -> ProcessInstance:
    instance = services.instance_start(process_key="order_saga", business_key=order_id,
                                       variables=shop.variables(order_id))
    wait_for(lambda: ProcessInstance.objects.get(pk=instance.pk).has_incident, what=f"an incident on {order_id}",
             explain=lambda: describe_instance(instance.pk))
    instance.refresh_from_db()
    return instance


def wait_completed(instance) -> ProcessInstance:
    wait_for(lambda: ProcessInstance.objects.get(pk=instance.pk).status == "completed",
             what=f"instance #{instance.pk} to complete after the retry", explain=lambda: describe_instance(instance.pk))
    instance.refresh_from_db()
    return instance


def assert_one_shipment_after_failures(shop, order_id: str, instance) -> None:
    ships = shop.log(order_id=order_id, operation="shipping/ship")
    assert [c["status"] for c in ships["calls"]] == [500, 500, 200]  # 2 attempts, then the retry
    assert ships["summary"]["shipping/ship"] == {"calls": 3, "effects": 1}
    call = ServiceCall.objects.get(instance=instance, node_id="Task_ship")
    assert {c["idempotency_key"] for c in ships["calls"]} == {call.idempotency_key}
    assert instance.state["ended_by"] == "EndEvent_shipped" and not instance.has_incident


@pytest.mark.parametrize("retry_from", ["service", "admin"])
def test_exhausted_retries_are_an_incident_that_a_retry_resolves(shop, worker, client, retry_from):
    deploy_saga(retries=1)  # two attempts: below the breaker's threshold, so it stays closed
    shop.fault("shipping/ship", status=500)
    instance = start_until_incident(shop, "C-1")

    assert instance.status == "running"
    incident = Incident.objects.get(instance=instance)
    assert incident.state == "open" and incident.node_id == "Task_ship" and incident.attempts == 2
    assert "500" in incident.message + incident.detail
    assert ServiceCall.objects.get(instance=instance, node_id="Task_ship").state == "incident"

    shop.heal()
    if retry_from == "service":
        assert services.instance_retry(instance=instance) == 1
    else:
        client.force_login(User.objects.create_superuser("root", email="", password=None))
        page = client.post("/admin/runtime/processinstance/", {"action": "retry_incidents",
                                                               "_selected_action": [instance.pk]})
        assert page.status_code == 302, page.content[:500]
    instance = wait_completed(instance)
    assert_one_shipment_after_failures(shop, "C-1", instance)
    incident.refresh_from_db()
    assert incident.state == "resolved"


def test_an_operator_retries_the_incident_through_the_rest_api(shop, worker):
    deploy_saga(retries=1)
    shop.fault("shipping/ship", status=500)
    instance = start_until_incident(shop, "C-2")
    operator = User.objects.create_superuser("operator", email="", password=None)
    token = Token.objects.create(user=operator)
    api = httpx.Client(base_url=shop.url, headers={"Authorization": f"Token {token.key}"}, timeout=10)

    with api:
        before = api.get(f"/api/instances/{instance.pk}/")
        assert before.status_code == 200, before.text
        assert before.json()["status"] == "running" and before.json()["incidents"]
        shop.heal()
        answer = api.post(f"/api/instances/{instance.pk}/retry/")
        assert answer.status_code == 200, answer.text
        instance = wait_completed(instance)
        again = api.post(f"/api/instances/{instance.pk}/retry/")
    assert again.status_code == 409, again.text  # nothing left to retry
    assert_one_shipment_after_failures(shop, "C-2", instance)
