"""The circuit breaker page in Chromium: orders of the demo saga run against the shop the
server hosts (its breaker stays closed) and against a port nobody listens on (its breaker
opens); staff reach the page from the instance list and watch the dead endpoint open."""
import os
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from tests.conftest import TEST_DIR, _free_port
from tests.orchestration.conftest import deploy_saga

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS_SHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("UPDATE_DOCS_SCREENSHOTS")
              else TEST_DIR / "screenshots")


@pytest.fixture
def server_worker(request):
    """Who runs the server's service calls: its embedded worker, or a worker process."""
    if settings.SERVICE_MODE:
        request.getfixturevalue("celery_worker_process")


def test_staff_watch_a_dead_endpoint_open_its_circuit(login, live_server_url, server_worker, page_errors):
    if "shop" not in settings.INSTALLED_APPS:
        pytest.skip("the demo shop is not installed")
    root = User.objects.create_superuser("root", "root@example.com", "root-pw")
    deploy_saga(retries=8)  # 0.05 s backoff: the default threshold of 5 failures comes fast
    dead = f"http://127.0.0.1:{_free_port()}"
    with httpx.Client(base_url=live_server_url, headers={"Authorization": f"Token {Token.objects.create(user=root).key}"},
                      timeout=10) as api:
        for shop, order in ((live_server_url, "OK-1"), (dead, "DEAD-1")):
            answer = api.post("/api/instances/", json={"process": "order_saga", "variables": {
                "shop": shop, "order_id": order, "amount": 30, "address": "1 Main St"}})
            assert answer.status_code == 201, answer.text

    page = login("root", "root-pw")
    page.goto(f"{live_server_url}/instances/")
    page.click("text=Circuit breakers")
    page.wait_for_selector(f'tr[data-endpoint="{dead}"][data-state="open"]', timeout=20_000)
    page.wait_for_selector(f'tr[data-endpoint="{live_server_url}"][data-state="closed"]', timeout=20_000)
    assert "Connect" in page.inner_text(f'tr[data-endpoint="{dead}"]') or "refused" in page.inner_text(
        f'tr[data-endpoint="{dead}"]').lower()
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SHOTS / "instance-breakers.png"))
    assert page_errors == []
