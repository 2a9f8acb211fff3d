"""`/instances/breakers/`: staff see every endpoint's breaker, open ones first; others may not."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from runtime.connectors import breaker, conf

pytestmark = pytest.mark.django_db


@pytest.fixture
def breakers(monkeypatch):
    """Breakers in this process, whatever the topology, with a threshold of 2."""
    monkeypatch.setattr(breaker, "_memory_store", breaker.MemoryStore())
    monkeypatch.setattr(conf, "redis_url", lambda: "")
    monkeypatch.setattr(conf, "breaker_config", lambda: {**conf.BREAKER_DEFAULTS, "failure_threshold": 2})
    return breaker.breaker_for


def test_staff_see_open_breakers_first_with_their_last_error(client, breakers):
    dead, fine = breakers("http://payments.example:80"), breakers("http://inventory.example:80")
    fine.record_failure("one blip")
    fine.record_success()
    dead.record_failure("HTTP 503 from /charge")
    dead.record_failure("connection refused")
    client.force_login(User.objects.create_user("ops", is_staff=True))

    page = client.get("/instances/breakers/")

    assert page.status_code == 200
    html = page.content.decode()
    assert html.index('data-endpoint="http://payments.example:80" data-state="open"') < html.index(
        'data-endpoint="http://inventory.example:80" data-state="closed"')
    assert "connection refused" in html and "1 endpoint not closed" in html


def test_an_empty_page_says_nothing_has_been_called(client, breakers):
    client.force_login(User.objects.create_user("ops", is_staff=True))
    assert "No service call has used an endpoint yet" in client.get("/instances/breakers/").content.decode()


def test_only_staff_may_look(client, breakers):
    assert client.get("/instances/breakers/").status_code == 302  # to the login page
    client.force_login(User.objects.create_user("alice"))
    assert client.get("/instances/breakers/").status_code == 403


def test_the_instance_list_links_to_it_for_staff_only(client, breakers):
    client.force_login(User.objects.create_user("alice"))
    assert "/instances/breakers/" not in client.get("/instances/").content.decode()
    client.force_login(User.objects.create_user("ops", is_staff=True))
    assert "/instances/breakers/" in client.get("/instances/").content.decode()
