"""Figure for the closing note: time from a task's creation to its row in an open inbox.

Not part of the ordinary run (it starts 200 instances): set FLOWYARD_PERF=1.

    rm -rf var/test && mkdir -p var/test && FLOWYARD_PERF=1 env -u DATABASE_URL \\
        SQLITE_TEST_PATH=$PWD/var/test/test.sqlite3 .venv/bin/pytest -s tests/browser/test_inbox_latency.py

Origin: the task row's ``created_at`` (the server's clock when the creating transaction
began). Arrival: a MutationObserver in the page stamps ``Date.now()`` when the row is
inserted. Browser, server and test share one machine, so one clock. Each task is created
only after the previous one appeared, so the figures are per-task latency, not throughput.
"""
import json
import os
import statistics
import threading

import pytest
from django.conf import settings

from runtime import services
from runtime.models import HumanTask
from tests.conftest import TEST_DIR
from tests.runtime.inbox_setup import People, deploy_fixture

pytestmark = [
    pytest.mark.browser, pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("FLOWYARD_PERF"), reason="a measurement, not a test: set FLOWYARD_PERF=1"),
    pytest.mark.timeout(900),
]
N = int(os.environ.get("FLOWYARD_PERF_TASKS", "200"))

OBSERVE = """() => {
    window.__arrived = {};
    new MutationObserver((records) => {
        const now = Date.now();
        for (const r of records) for (const n of r.addedNodes) {
            if (n.dataset && n.dataset.taskId && !(n.dataset.taskId in window.__arrived)) window.__arrived[n.dataset.taskId] = now;
        }
    }).observe(document.getElementById("inbox-list"), { childList: true, subtree: true });
}"""


def test_task_creation_to_inbox_row_latency(login, live_server_url):
    People(password="pw")
    deploy_fixture("loan_approval.bpmn")
    starter = login("carol", "pw")
    inbox = login("olivia", "pw")
    inbox.goto(f"{live_server_url}/inbox/?tab=groups&sort=created")  # newest first: every new row on page 1
    inbox.wait_for_selector("#live-indicator[data-state=live]", timeout=10000)
    inbox.evaluate(OBSERVE)
    csrf = next(c["value"] for c in starter.context.cookies() if c["name"] == "csrftoken")

    def start(n: int) -> None:
        variables = {"amount": 1000 + n, "income": 3000}
        if settings.SERVICE_MODE:  # off the Playwright thread (its loop refuses async_to_sync)
            worker = threading.Thread(target=services.instance_start, kwargs={
                "process_key": "loan_approval", "variables": variables, "business_key": f"P-{n}"})
            worker.start()
            worker.join(30)
        else:  # the embedded channel layer lives in the server: start the instance there
            response = starter.request.post(f"{live_server_url}/designer/loan_approval/start/",
                                            form={"variables": json.dumps(variables), "business_key": f"P-{n}"},
                                            headers={"X-CSRFToken": csrf, "Referer": live_server_url + "/"})
            assert response.status in (200, 204)

    latencies = []
    for n in range(N):
        start(n)
        task = HumanTask.objects.get(instance__business_key=f"P-{n}")
        inbox.wait_for_function(f"window.__arrived['{task.pk}'] !== undefined", timeout=10000)
        arrived_ms = inbox.evaluate(f"window.__arrived['{task.pk}']")
        latencies.append(arrived_ms - task.created_at.timestamp() * 1000)
    latencies.sort()
    result = {
        "tasks": N, "topology": "service" if settings.SERVICE_MODE else "embedded",
        "median_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 1),
        "min_ms": round(latencies[0], 1), "max_ms": round(latencies[-1], 1),
        "load_average": os.getloadavg(),
    }
    (TEST_DIR / "inbox-latency.json").write_text(json.dumps(result, indent=2))
    print("\ninbox latency:", json.dumps(result))
