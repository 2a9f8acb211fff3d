"""The instance pages in Chromium: the list, and a loan approval whose page follows the
instance live — the active marker on the user task, then, when the task is completed, the
new history rows, the marker moving to the end and the status turning completed, all
without a reload.

Who completes the task: in service mode the test calls ``runtime.services.task_complete``
itself and the push travels through Redis to the Daphne subprocess. The embedded topology's
channel layer lives inside one process, so there the same service runs in the server: an
officer posts the task form, as a person would (the page under test cannot tell the two
apart — both arrive as a push on ``instance.<id>``).
"""
import os
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User

from runtime import services
from runtime.models import HumanTask, Incident, ProcessInstance
from tests.conftest import TEST_DIR
from tests.runtime.instance_pages import deploy_loan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# Screenshots land in the test directory; UPDATE_DOCS_SCREENSHOTS=1 refreshes the committed
# ones in docs/screenshots/ instead, so an ordinary run leaves the work tree clean.
DOCS_SHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("UPDATE_DOCS_SCREENSHOTS")
              else TEST_DIR / "screenshots")
LOAN = {"amount": 12000, "income": 4000}


@pytest.fixture
def people(db):
    root = User.objects.create_superuser("root", "root@example.com", "root-pw")
    officer = User.objects.create_user("olga", password="olga-pw")
    officer.groups.add(Group.objects.get_or_create(name="loan-officers")[0])
    deploy_loan(root)
    return root, officer


def _complete(task: HumanTask, officer, live_server_url: str, login) -> None:
    answer = {"decision": "approve", "approved_amount": "12000", "comment": "fine"}
    if settings.SERVICE_MODE:
        # Off the Playwright thread: its event loop would refuse the push's async_to_sync.
        worker = threading.Thread(target=services.task_complete,
                                  kwargs={"task": task.pk, "user": officer, "variables": answer})
        worker.start()
        worker.join(timeout=30)
        assert HumanTask.objects.get(pk=task.pk).state == "completed"
        return
    page = login("olga", "olga-pw")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(f"{live_server_url}/inbox/tasks/{task.pk}/complete/", form=answer,
                                 headers={"X-CSRFToken": csrf, "Referer": live_server_url + "/"})
    assert response.ok, response.status
    assert HumanTask.objects.get(pk=task.pk).state == "completed"


def _shot(page, name: str) -> None:
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SHOTS / name))


def test_instance_page_follows_the_task_completion_live(people, login, live_server_url, page_errors):
    root, officer = people
    instance = services.instance_start(process_key="loan_approval", variables=LOAN, business_key="LOAN-2041", user=root)
    task = HumanTask.objects.get(instance=instance)

    page = login("root", "root-pw")
    page.goto(f"{live_server_url}/instances/{instance.pk}/")
    page.wait_for_selector("#instance-page[data-diagram=ready][data-live-state=live]", timeout=15000)
    page.wait_for_selector('g.djs-element.fy-active[data-element-id="Task_review"]')
    assert page.inner_text('.fy-token-count[data-node="Task_review"]') == "1"
    assert page.locator("g.djs-element.fy-done[data-element-id='Task_assess']").count() == 1
    assert page.get_attribute("#instance-status", "data-status") == "running"
    seq_before = ProcessInstance.objects.get(pk=instance.pk).history_seq
    page.evaluate("window.__sameDocument = true")
    _shot(page, "instance-detail.png")

    _complete(task, officer, live_server_url, login)
    final_seq = ProcessInstance.objects.get(pk=instance.pk).history_seq
    assert final_seq > seq_before

    page.wait_for_selector('#instance-status[data-status="completed"]', timeout=5000)
    page.wait_for_selector(f'#history-rows tr[data-seq="{final_seq}"]')
    page.wait_for_selector(f'#instance-page[data-marked-seq="{final_seq}"]')
    assert page.evaluate("window.__sameDocument") is True  # updated in place, not reloaded
    assert page.locator("g.djs-element.fy-active").count() == 0
    assert page.locator(".fy-token-count").count() == 0
    assert page.locator("g.djs-element.fy-done[data-element-id='EndEvent_approved']").count() == 1
    assert page.locator("g.djs-element.fy-done[data-element-id='Flow_approved']").count() == 1
    assert page.locator("g.djs-element.fy-done[data-element-id='Flow_rejected']").count() == 0
    seqs = page.eval_on_selector_all("#history-rows tr[data-seq]", "rows => rows.map(r => +r.dataset.seq)")
    assert seqs == list(range(final_seq, 0, -1))  # newest first, every event exactly once
    assert "No open tasks." in page.inner_text("#instance-tasks")
    assert '"decision": "approve"' in page.inner_text("#instance-variables")

    page.click("text=Oldest first")
    page.wait_for_selector('#instance-history[data-order="asc"]')
    seqs = page.eval_on_selector_all("#history-rows tr[data-seq]", "rows => rows.map(r => +r.dataset.seq)")
    assert seqs == list(range(1, final_seq + 1))
    page.click("text=Newest first")
    page.wait_for_selector('#instance-history[data-order="desc"]')
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#instance-history").screenshot(path=str(DOCS_SHOTS / "instance-history.png"))
    page.evaluate("window.scrollTo(0, 0)")
    _shot(page, "instance-detail-completed.png")
    assert page_errors == []


def test_a_page_that_missed_pushes_catches_up_when_its_socket_returns(people, login, live_server_url, page_errors):
    root, officer = people
    instance = services.instance_start(process_key="loan_approval", variables=LOAN, user=root)
    page = login("root", "root-pw")
    page.goto(f"{live_server_url}/instances/{instance.pk}/")
    page.wait_for_selector("#instance-page[data-diagram=ready][data-live-state=live]", timeout=15000)
    page.evaluate("FlowyardInstance.disconnect()")
    page.wait_for_selector("#instance-page[data-live-state=offline]")

    _complete(HumanTask.objects.get(instance=instance), officer, live_server_url, login)
    final_seq = ProcessInstance.objects.get(pk=instance.pk).history_seq
    page.wait_for_timeout(500)
    assert page.get_attribute("#instance-status", "data-status") == "running"  # nobody told it

    page.evaluate("FlowyardInstance.connect()")  # the hello carries a newer seq: re-fetch it all
    page.wait_for_selector('#instance-status[data-status="completed"]', timeout=5000)
    page.wait_for_selector(f'#instance-page[data-marked-seq="{final_seq}"]')
    seqs = page.eval_on_selector_all("#history-rows tr[data-seq]", "rows => rows.map(r => +r.dataset.seq)")
    assert seqs == list(range(final_seq, 0, -1))
    assert page.locator("g.djs-element.fy-active").count() == 0
    assert page_errors == []


def test_instance_list_filters_and_links_to_the_page(people, login, live_server_url, page_errors):
    root, officer = people
    made = [services.instance_start(process_key="loan_approval", variables={"amount": 1000 * n, "income": 900},
                                    business_key=f"LOAN-{2040 + n}", user=root if n % 2 else officer)
            for n in range(1, 7)]
    services.task_complete(task=HumanTask.objects.get(instance=made[0]), user=officer,
                           variables={"decision": "approve"})
    services.task_complete(task=HumanTask.objects.get(instance=made[1]), user=officer,
                           variables={"decision": "reject"})
    services.instance_cancel(instance=made[2], user=root)
    Incident.objects.create(instance=made[3], node_id="Task_review", message="credit bureau did not answer", attempts=4)
    ProcessInstance.objects.filter(pk=made[3].pk).update(has_incident=True, incident_count=1)

    page = login("root", "root-pw")
    page.goto(f"{live_server_url}/instances/")
    assert page.locator("#instance-table tbody tr").count() == 6
    _shot(page, "instances-list.png")

    page.fill("input[name=q]", "LOAN-2043")
    page.wait_for_function("document.querySelectorAll('#instance-table tbody tr').length === 1")
    assert "q=LOAN-2043" in page.url  # the filter is in the address, so it can be shared
    page.fill("input[name=q]", "")
    page.wait_for_function("document.querySelectorAll('#instance-table tbody tr').length === 6")
    page.click(".fy-status-tabs a:has-text('completed')")
    page.wait_for_function("document.querySelectorAll('#instance-table tbody tr').length === 2")
    page.check("input[name=incident]")
    page.wait_for_selector(".empty")
    page.uncheck("input[name=incident]")
    page.wait_for_function("document.querySelectorAll('#instance-table tbody tr').length === 2")
    page.click(f"a[href='/instances/{made[0].pk}/']")
    page.wait_for_selector("#instance-page[data-diagram=ready]")
    assert page.get_attribute("#instance-status", "data-status") == "completed"
    assert page_errors == []


def test_operator_retries_an_incident_and_cancels_with_confirmation(people, login, live_server_url, page_errors):
    root, officer = people
    instance = services.instance_start(process_key="loan_approval", variables=LOAN, business_key="LOAN-3001", user=officer)
    Incident.objects.create(instance=instance, node_id="Task_review", error_code="HTTP_503",
                            message="credit bureau did not answer", detail="GET https://bureau.example/score -> 503", attempts=4)
    ProcessInstance.objects.filter(pk=instance.pk).update(has_incident=True, incident_count=1)

    page = login("root", "root-pw")
    page.goto(f"{live_server_url}/instances/{instance.pk}/")
    page.wait_for_selector("#instance-page[data-diagram=ready][data-live-state=live]", timeout=15000)
    assert page.locator("g.djs-element.fy-incident[data-element-id='Task_review']").count() == 1
    assert "credit bureau did not answer" in page.inner_text("#instance-incidents")
    _shot(page, "instance-incident.png")

    page.click("#instance-summary button:has-text('Retry incidents')")
    page.wait_for_selector(".flash-success")
    page.wait_for_selector("#instance-page[data-diagram=ready]")
    assert page.locator("g.djs-element.fy-incident").count() == 0
    assert Incident.objects.get(instance=instance).state == "resolved"

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button:has-text('Cancel instance')")
    assert ProcessInstance.objects.get(pk=instance.pk).status == "running"  # said no
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Cancel instance')")
    page.wait_for_selector('#instance-status[data-status="cancelled"]')
    assert ProcessInstance.objects.get(pk=instance.pk).status == "cancelled"
    assert page.locator("button:has-text('Cancel instance')").count() == 0
    assert page_errors == []
