"""The OpenAPI schema: it validates with no warnings, and schemathesis fuzzes every
operation against it in-process (WSGI, the test database) — no 500s, and every response
matches its documented schema, error bodies included."""
from __future__ import annotations

import pytest
from django.apps import apps
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from runtime.models import HumanTask


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    text = (tmp_path / "schema.yaml").read_text()
    for path in ("/api/processes/deploy/", "/api/instances/{id}/history/", "/api/tasks/{id}/complete/",
                 "/api/messages/", "/api/signals/"):
        assert f"  {path}:" in text


@pytest.mark.django_db
def test_the_schema_and_docs_are_served(client, users):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200 and "/api/instances/" in response.json()["paths"]
    client.force_login(users.alice)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui-dist" in docs.content and b"cdn" not in docs.content.lower()


def _live_schema() -> dict:
    """The schema /api/schema/ serves, generated the same way (no database needed)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


# Loaded at collection so each operation is its own test; calls go to the WSGI app in-process.
# (schemathesis.pytest.from_fixture would load it lazily, but 4.32 breaks under pytest 9.)
schema = schemathesis.openapi.from_dict(_live_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def _keep_test_connection():
    """Django's WSGI handler closes the connection around each request when it is inside a
    transaction (the test's); Django's test client avoids that by detaching these receivers
    for each of its requests, so do the same for the WSGI calls."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_data(db, users, start_loan, quote) -> str:
    """Rows behind the small generated ids (a running loan instance with an open task) and
    the superuser's token, so the fuzzer reaches the deep paths as well as the 404s."""
    start_loan(users.carol)
    assert HumanTask.objects.exists()
    if apps.is_installed("webhooks"):
        from webhooks.models import Webhook

        Webhook.objects.create(url="http://127.0.0.1:9/hook", secret="s" * 16)
    return Token.objects.get_or_create(user=users.root)[0].key


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_fuzz_every_operation(case, fuzz_data, _keep_test_connection):  # after the data: the test client re-attaches them
    case.call_and_validate(headers={"Authorization": f"Token {fuzz_data}"},
                           checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
