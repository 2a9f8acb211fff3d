"""Webhooks: the subscription API, and signed deliveries with retries to a real HTTP
server on 127.0.0.1 (Celery eager, run from the on-commit hooks)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.apps import apps
from django.db import transaction

from tests.api.conftest import errors_of, fields_of

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not apps.is_installed("webhooks"), reason="add 'webhooks' to INSTALLED_APPS")]


class Receiver:
    """Records POSTs; answers with the queued statuses, then 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def eager(settings):
    from config.celery import app

    settings.FLOWYARD = {**settings.FLOWYARD, "WEBHOOK_BACKOFF": 0, "WEBHOOK_MAX_ATTEMPTS": 3, "WEBHOOK_TIMEOUT": 5}
    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


SECRET = "0123456789abcdef-secret"


def subscribe(client, url, **extra):
    response = client.post("/api/webhooks/", {"url": url, "secret": SECRET, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_subscription_api(users, client_for, anon):
    root = client_for(users.root)
    hook = subscribe(root, "https://example.com/h", events=["instance.failed", "instance.completed", "instance.failed"],
                     process_key="loan_approval")
    assert "secret" not in hook and hook["events"] == ["instance.completed", "instance.failed"]
    assert hook["created_by"] == "root" and hook["active"] is True
    assert root.get(f"/api/webhooks/{hook['id']}/").json() == hook
    assert root.patch(f"/api/webhooks/{hook['id']}/", {"active": False}, format="json").json()["active"] is False
    assert fields_of(root.post("/api/webhooks/", {"url": "ftp://x/", "secret": SECRET}, format="json")) == {"url"}
    assert fields_of(root.post("/api/webhooks/", {"url": "https://example.org/x", "secret": "short"}, format="json")) == {"secret"}
    assert fields_of(root.post("/api/webhooks/", {"url": "https://example.org/x", "secret": SECRET, "events": ["nope"]},
                               format="json")) == {"events.0"}
    assert client_for(users.alice).get("/api/webhooks/").status_code == 403
    assert errors_of(client_for(users.alice).post("/api/webhooks/", {}, format="json"))[0]["code"] == "permission_denied"
    assert anon.get("/api/webhooks/").status_code == 401
    assert root.get("/api/webhooks/999/").status_code == 404
    assert root.delete(f"/api/webhooks/{hook['id']}/").status_code == 204


def test_a_completed_instance_is_posted_signed(users, client_for, start_loan, receiver, eager,
                                                django_capture_on_commit_callbacks):
    from webhooks.models import WebhookDelivery
    from webhooks.services import verify

    subscribe(client_for(users.root), receiver.url, events=["instance.completed"])
    subscribe(client_for(users.root), receiver.url + "/other", process_key="other_process")
    started = start_loan(users.carol, amount=100)
    task = client_for(users.alice).get("/api/tasks/").json()["results"][0]
    with django_capture_on_commit_callbacks(execute=True):
        done = client_for(users.alice).post(f"/api/tasks/{task['id']}/complete/", {"variables": {"decision": "approve"}},
                                            format="json")
    assert done.status_code == 200
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert verify(SECRET, request["body"], request["headers"]["X-Flowyard-Signature"])
    assert request["headers"]["X-Flowyard-Signature"].startswith("sha256=")
    assert request["headers"]["X-Flowyard-Event"] == "instance.completed"
    body = json.loads(request["body"])
    assert body["event"] == "instance.completed" and body["instance"]["id"] == started["id"]
    assert body["instance"]["process"] == "loan_approval" and body["instance"]["status"] == "completed"
    assert body["instance"]["variables"]["decision"] == "approve"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_failed_posts_are_retried_then_given_up(users, start_loan, receiver, eager, django_capture_on_commit_callbacks):
    from runtime.store import UnitOfWork
    from webhooks.models import Webhook, WebhookDelivery

    Webhook.objects.create(url=receiver.url, secret=SECRET, events=["instance.incident"])
    other = Webhook.objects.create(url=receiver.url + "/flaky", secret=SECRET)
    started = start_loan(users.carol)
    receiver.statuses = [500, 503, 500, 502, 500]  # 5 failures in 6 attempts: one gives up after 3, one succeeds on its 3rd
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            uow = UnitOfWork(actor="test")
            instance = uow.lock(started["id"])
            uow.open_incident(instance, node="Task_review", message="connector down")
            uow.commit()
    deliveries = {d.webhook_id: d for d in WebhookDelivery.objects.all()}
    assert len(receiver.requests) == 6
    assert {r["headers"]["X-Flowyard-Event"] for r in receiver.requests} == {"instance.incident"}
    # one event id for all attempts and webhooks (receivers drop duplicates by it); one delivery id per webhook
    assert len({json.loads(r["body"])["id"] for r in receiver.requests}) == 1
    assert len({r["headers"]["X-Flowyard-Delivery"] for r in receiver.requests}) == 2
    assert sorted((d.status, d.attempts) for d in deliveries.values()) == [("delivered", 3), ("failed", 3)]
    assert json.loads(receiver.requests[0]["body"])["incident"]["message"] == "connector down"
    assert other.pk in deliveries


def test_nothing_is_queued_without_webhooks_or_for_rolled_back_changes(users, start_loan, eager):
    from runtime import services
    from webhooks.models import Webhook, WebhookDelivery

    started = start_loan(users.carol)
    services.instance_cancel(instance=started["id"], user=users.root)
    assert not WebhookDelivery.objects.exists()
    Webhook.objects.create(url="http://127.0.0.1:9/", secret=SECRET)
    started = start_loan(users.carol)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            from runtime.models import Incident, ProcessInstance

            instance = ProcessInstance.objects.get(pk=started["id"])
            instance.status = "failed"
            instance.save()
            assert WebhookDelivery.objects.count() == 1
            raise RuntimeError("roll back")
    assert not WebhookDelivery.objects.exists() and not Incident.objects.exists()


def _straight():
    from runtime.engine.testing.builder import GraphBuilder
    from tests.runtime.conftest import deploy_graph

    b = GraphBuilder("straight_hooked")
    b.start("s")
    b.script("t", x="1")
    b.end("e").chain("s", "t", "e")
    deploy_graph(b)


@pytest.mark.django_db(transaction=True)
def test_a_start_that_completes_at_once_queues_its_completed_event_in_its_transaction(users, client_for):
    """A straight-through start writes its instance in one statement, outside the ORM's
    save(): its receivers still run, and with a webhook active the start keeps a
    transaction so the delivery row commits with the instance."""
    from contextlib import contextmanager

    from django.db import connection

    from runtime import services
    from webhooks.models import WebhookDelivery

    @contextmanager
    def statements():
        seen = []

        def record(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            yield seen

    _straight()
    with statements() as quiet:
        services.instance_start(process_key="straight_hooked")
    subscribe(client_for(users.root), "http://127.0.0.1:9/hook", events=["instance.completed"])
    with statements() as hooked:
        instance = services.instance_start(process_key="straight_hooked")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.instance_id, delivery.event) == (instance.pk, "instance.completed")
    assert delivery.payload["instance"]["status"] == "completed"
    if connection.vendor == "postgresql":  # no webhook: no transaction, the start is one INSERT statement
        assert [sql.split()[0] for sql in quiet if "webhooks_webhook" not in sql] == ["SELECT", "SELECT", "WITH"]
        assert any('INSERT INTO "webhooks_webhookdelivery"' in sql for sql in hooked)
        assert connection.in_atomic_block is False
