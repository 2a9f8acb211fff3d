"""The inbox in Chromium with two people of one group, olivia (A) and oscar (B).

A's inbox shows a task the moment an instance creates it; B claims it and it leaves A's
"My groups" within a second; B completes it, first with a form error shown next to the
field, then with valid data, and the instance moves on. All without reloading A's page.

Where the instance starts: in service mode the test starts it itself and the push travels
through Redis to the Daphne subprocess. The embedded topology's channel layer lives inside
the server process, so there a third person starts it through the designer's start form,
in the server, as a person would; A's page cannot tell the two apart.
"""
import datetime as dt
import json
import os
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from runtime import services
from runtime.models import HumanTask, ProcessInstance
from tests.conftest import TEST_DIR
from tests.runtime.inbox_setup import People, deploy_fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS_SHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("UPDATE_DOCS_SCREENSHOTS")
              else TEST_DIR / "screenshots")


@pytest.fixture
def people(db):
    people = People(password="pw")
    deploy_fixture("loan_approval.bpmn")
    return people


def _shot(page, name: str) -> None:
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SHOTS / name))


def _start_loan(starter_page, live_server_url: str, *, amount: int, business_key: str) -> ProcessInstance:
    variables = {"amount": amount, "income": 3000}
    if settings.SERVICE_MODE:
        # Off the Playwright thread: its event loop would refuse the push's async_to_sync.
        box = []
        worker = threading.Thread(target=lambda: box.append(services.instance_start(
            process_key="loan_approval", variables=variables, business_key=business_key)))
        worker.start()
        worker.join(timeout=30)
        return box[0]
    csrf = next(c["value"] for c in starter_page.context.cookies() if c["name"] == "csrftoken")
    response = starter_page.request.post(
        f"{live_server_url}/designer/loan_approval/start/",
        form={"variables": json.dumps(variables), "business_key": business_key},
        headers={"X-CSRFToken": csrf, "Referer": live_server_url + "/"})
    assert response.status in (200, 204), response.status
    return ProcessInstance.objects.get(business_key=business_key)


def _open_inbox(page, live_server_url: str) -> None:
    page.goto(f"{live_server_url}/inbox/?tab=groups")
    page.wait_for_selector("#live-indicator[data-state=live]", timeout=10000)
    page.evaluate("window.__sameDocument = true")


def test_two_officers_share_a_task_live(people, login, live_server_url, page_errors):
    starter = login("carol", "pw")
    a = login("olivia", "pw")
    _open_inbox(a, live_server_url)
    assert a.locator("#inbox-rows tr[data-task-id]").count() == 0

    instance = _start_loan(starter, live_server_url, amount=9000, business_key="LOAN-7001")
    task = HumanTask.objects.get(instance=instance)
    row = f"#inbox-rows #task-{task.pk}"
    a.wait_for_selector(row, timeout=5000)  # appeared without a reload
    assert "LOAN-7001" in a.inner_text(row)
    a.wait_for_function("document.getElementById('inbox-count').textContent.trim() === '1'", timeout=5000)

    b = login("oscar", "pw")
    b.goto(f"{live_server_url}/inbox/tasks/{task.pk}/")
    b.wait_for_selector("#task-diagram[data-ready='1']", timeout=10000)
    assert b.locator("#task-diagram g.djs-element.fy-current[data-element-id='Task_review']").count() == 1
    b.click("#claim")
    b.wait_for_selector("#unclaim")
    claimed_at = time.monotonic()
    a.wait_for_selector(row, state="detached", timeout=1000)  # gone from A's group tab within a second
    gone_after = time.monotonic() - claimed_at
    a.wait_for_function("document.getElementById('inbox-count').textContent.trim() === ''", timeout=3000)
    assert a.evaluate("window.__sameDocument") is True

    # A form error first: the required decision left empty, and a number that is not one.
    b.fill("#f-approved_amount", "lots")
    b.click("#complete")
    b.wait_for_selector(".fy-field[data-field=decision] .field-error")
    assert b.inner_text(".fy-field[data-field=decision] .field-error") == "This field is required."
    assert b.inner_text(".fy-field[data-field=approved_amount] .field-error") == "Enter a number."
    assert b.input_value("#f-approved_amount") == "lots"  # what was typed is kept
    assert HumanTask.objects.get(pk=task.pk).state == "claimed"
    _shot(b, "inbox-task-form-errors.png")

    b.select_option("#f-decision", "approve")
    b.fill("#f-approved_amount", "8500")
    b.fill("#f-comment", "Income covers it.")
    b.click("#complete")
    b.wait_for_url(f"{live_server_url}/inbox/")
    assert "Completed “Review application”" in b.inner_text(".flash")
    instance.refresh_from_db()
    assert instance.status == "completed"
    assert instance.variables["decision"] == "approve" and instance.variables["approved_amount"] == 8500
    b.goto(f"{live_server_url}/inbox/?tab=done")
    assert b.locator(f"#task-{task.pk}").count() == 1
    assert gone_after < 1.0
    # The rejected submission is answered 400 on purpose (the form again, with its errors).
    expected = {f"http 400: {live_server_url}/inbox/tasks/{task.pk}/complete/",
                "console: Failed to load resource: the server responded with a status of 400 (Bad Request)"}
    assert [e for e in page_errors if e not in expected] == []


def test_a_dropped_socket_reconnects_and_resyncs(people, login, live_server_url, page_errors):
    earlier = HumanTask.objects.get(instance=services.instance_start(
        process_key="loan_approval", variables={"amount": 100, "income": 100}, business_key="LOAN-7000"))
    starter = login("carol", "pw")
    a = login("olivia", "pw")
    _open_inbox(a, live_server_url)
    a.evaluate(f"() => {{ document.getElementById('task-{earlier.pk}').__kept = true; }}")
    # Cut the socket and refuse new ones, so the push for the next task is missed.
    a.evaluate("""() => {
        window.__RealWebSocket = window.WebSocket;
        window.WebSocket = class extends EventTarget {
            constructor() { super(); setTimeout(() => this.dispatchEvent(new Event("close")), 0); }
        };
        FlowyardLive.socket.close();
    }""")
    a.wait_for_selector("#live-indicator[data-state=offline]")
    instance = _start_loan(starter, live_server_url, amount=4000, business_key="LOAN-7002")
    task = HumanTask.objects.get(instance=instance)
    a.wait_for_timeout(700)
    assert a.locator(f"#task-{task.pk}").count() == 0  # nobody told it
    a.evaluate("() => { window.WebSocket = window.__RealWebSocket; }")  # the next retry gets through
    a.wait_for_selector("#live-indicator[data-state=live]", timeout=15000)
    a.wait_for_selector(f"#inbox-rows #task-{task.pk}", timeout=5000)  # re-synced on the hello
    assert a.evaluate("window.__sameDocument") is True
    # The row that did not change is the very same DOM node: merged by id, not re-rendered.
    assert a.evaluate(f"() => document.getElementById('task-{earlier.pk}').__kept === true") is True
    assert page_errors == []


def test_screenshots_of_a_busy_inbox_and_a_task(people, login, live_server_url, page_errors):
    """A realistic inbox for the docs: priorities, overdue and due-soon tasks, two pages."""
    for n, amount in enumerate([250000, 9000, 64000, 12000, 3000, 180000, 7000, 45000]):
        services.instance_start(process_key="loan_approval", variables={"amount": amount, "income": 20000 + 5000 * n},
                                business_key=f"LOAN-{7100 + n}", user=people.carol)
    tasks = list(HumanTask.objects.order_by("id"))
    now = timezone.now()
    HumanTask.objects.filter(pk=tasks[1].pk).update(due_at=now - dt.timedelta(hours=5))
    HumanTask.objects.filter(pk=tasks[3].pk).update(due_at=now + dt.timedelta(hours=3))
    services.task_claim(task=tasks[2], user=people.oscar)
    services.task_claim(task=tasks[4], user=people.olivia)

    a = login("olivia", "pw")
    _open_inbox(a, live_server_url)
    assert a.locator("#inbox-rows tr[data-task-id]").count() == 6  # 8 minus the two claimed
    assert a.locator("#inbox-rows tr.fy-due-overdue .pill.bad").count() == 1
    assert a.locator("#inbox-rows tr.fy-due-soon .pill.warn").count() == 1
    a.fill("input[name=q]", "LOAN-7105")
    a.wait_for_function("document.querySelectorAll('#inbox-rows tr[data-task-id]').length === 1")
    a.fill("input[name=q]", "")
    a.wait_for_function("document.querySelectorAll('#inbox-rows tr[data-task-id]').length === 6")
    a.locator("input[name=q]").blur()
    _shot(a, "inbox.png")
    a.click("a.fy-tab[data-tab=mine]")
    a.wait_for_selector(f"#task-{tasks[4].pk}")
    a.click(f"#task-{tasks[4].pk} a.fy-task-link")
    a.wait_for_selector("#task-diagram[data-ready='1']", timeout=10000)
    _shot(a, "inbox-task.png")
    assert page_errors == []
