"""A Celery task sent from a web request runs on a worker: the embedded one (SQLite leg)
and a real `celery worker` process against Redis (service leg)."""
import pytest
from django.contrib.auth.models import User

from config.models import WorkerPing


@pytest.fixture
def staff_client(client, transactional_db):
    user = User.objects.create_user("ops", password="pw", is_staff=True)
    client.force_login(user)
    return client


def _round_trip(client):
    response = client.post("/healthz/worker")
    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert WorkerPing.objects.filter(token=body["token"]).exists()
    return body


def test_embedded_worker_runs_a_task_sent_from_a_request(embedded_worker, staff_client):
    _round_trip(staff_client)


@pytest.mark.service
def test_celery_worker_process_runs_a_task_sent_from_a_request(celery_worker_process, staff_client):
    _round_trip(staff_client)


def test_without_a_worker_the_check_reports_failure_instead_of_hanging(staff_client, monkeypatch):
    from config import views

    monkeypatch.setattr(views.ping_task, "delay", lambda token: None)
    monkeypatch.setattr(views.time, "monotonic", iter(range(0, 1000, 5)).__next__)
    response = staff_client.post("/healthz/worker")
    assert response.status_code == 503
    assert "no worker" in response.json()["error"]


def test_worker_check_is_staff_only(client, db):
    client.force_login(User.objects.create_user("u", password="pw"))
    assert client.post("/healthz/worker").status_code == 403
