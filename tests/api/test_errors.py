"""The one error body, throttling, and the edges of the protocol (methods, media types)."""
import pytest
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from runtime.api.errors import flatten
from tests.api.conftest import errors_of

pytestmark = pytest.mark.django_db


def test_flatten_names_nested_paths():
    from rest_framework.exceptions import ErrorDetail as E

    detail = {"variables": {"a": [E("bad", code="invalid")], "b": {"0": [E("worse", code="x")]}},
              "non_field_errors": [E("whole", code="y")]}
    assert flatten(detail) == [
        {"message": "bad", "code": "invalid", "field": "variables.a"},
        {"message": "worse", "code": "x", "field": "variables.b.0"},
        {"message": "whole", "code": "y"},
    ]


def test_anonymous_clients_are_throttled_with_a_retry_after(anon, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min"})
    statuses = [anon.get("/api/processes/").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    response = anon.get("/api/processes/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert errors_of(response)[0]["code"] == "throttled"


def test_token_clients_are_throttled_per_user(users, client_for, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min", "anon": "100/min"})
    alice, bob = client_for(users.alice), client_for(users.bob)
    assert [alice.get("/api/processes/").status_code for _ in range(3)] == [200, 200, 429]
    assert bob.get("/api/processes/").status_code == 200


def test_wrong_methods_and_media_types_answer_with_the_error_body(users, client_for):
    client = client_for(users.alice)
    for response, status in ((client.put("/api/instances/", {}, format="json"), 405),
                             (client.post("/api/instances/", "a=1", content_type="application/x-www-form-urlencoded"), 415),
                             (client.get("/api/instances/", HTTP_ACCEPT="text/csv"), 406),
                             (client.get("/api/nothing-here/"), 404)):
        assert response.status_code == status
        if status != 404:  # outside the API's views Django answers its own 404 page
            errors_of(response)


def test_lone_surrogates_in_input_never_break_the_error_body(users, client_for):
    raw = '{"process": "loan_approval", "\\ud800": 1}'
    response = client_for(users.alice).post("/api/instances/", raw, content_type="application/json")
    assert response.status_code == 400
    assert errors_of(response)[0]["field"] == "\\ud800"


def test_session_authentication_works_for_the_browser(users, client):
    client.force_login(users.alice)
    assert client.get("/api/instances/").status_code == 200
    # session-authenticated writes need the CSRF token, like any form of the site
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users.alice)
    refused = strict.post("/api/signals/", {"name": "go"}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in errors_of(refused)[0]["message"]


def test_a_busy_database_is_a_503_with_retry_after(users, client_for, loan, monkeypatch):
    from django.db import OperationalError

    from runtime import services

    def busy(**kwargs):
        raise OperationalError("sorry, too many clients already")

    monkeypatch.setattr(services, "instance_start", busy)
    response = client_for(users.alice).post("/api/instances/", {"process": "loan_approval"}, format="json")
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert errors_of(response)[0]["code"] == "unavailable"
