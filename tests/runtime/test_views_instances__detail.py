"""`/instances/<id>/` on a real instance of the loan approval: markers, sections, the
history in both orders, the live fragments, and the operator actions through the services."""
import json
import re

import pytest
from django.contrib.auth.models import Group, User

from runtime import monitoring, services
from runtime.models import HumanTask, Incident, InstanceStatus

from tests.runtime.instance_pages import deploy_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan(db):
    root = User.objects.create_superuser("root", email="", password=None)
    applicant = User.objects.create_user("ann")
    deploy_loan(root)
    instance = services.instance_start(process_key="loan_approval", variables={"amount": 1000, "income": 500},
                                       business_key="LOAN-7", user=applicant)
    instance.refresh_from_db()
    return type("Loan", (), {"root": root, "applicant": applicant, "instance": instance,
                             "task": HumanTask.objects.get(instance=instance)})


def _markers(body: str) -> dict:
    found = re.search(r'<script id="instance-markers-data" type="application/json">(.*?)</script>', body, re.S)
    return json.loads(found.group(1))


def test_overlay_marks_the_waiting_task_and_the_path_to_it(loan):
    overlay = monitoring.diagram_overlay(instance=loan.instance)
    assert overlay["active"] == {"Task_review": 1}
    assert overlay["done_nodes"] == ["StartEvent_applied", "Task_assess"]
    assert overlay["done_flows"] == ["Flow_to_assess", "Flow_to_review"]
    assert overlay["incidents"] == [] and overlay["status"] == "running"


def test_page_shows_diagram_tokens_task_link_variables_and_history(client, loan):
    client.force_login(loan.applicant)
    body = client.get(f"/instances/{loan.instance.pk}/").content.decode()
    assert 'id="instance-bpmn-xml"' in body and "bpmn-navigated-viewer.production.min.js" in body
    assert _markers(body)["active"] == {"Task_review": 1}
    assert f'href="/inbox/tasks/{loan.task.pk}/"' in body and "loan-officers" in body
    assert "&quot;risk&quot;: &quot;low&quot;" in body  # pretty JSON, escaped
    assert "LOAN-7" in body and 'data-status="running"' in body
    assert f'data-ws-path="/ws/instances/{loan.instance.pk}/"' in body
    seqs = [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', body)]
    assert seqs == sorted(seqs, reverse=True) and seqs[0] == loan.instance.history_seq


def test_history_toggle_returns_the_card_oldest_first(client, loan):
    client.force_login(loan.root)
    body = client.get(f"/instances/{loan.instance.pk}/history/?order=asc").content.decode()
    assert body.lstrip().startswith('<section id="instance-history"') and 'data-order="asc"' in body
    seqs = [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', body)]
    assert seqs == list(range(1, loan.instance.history_seq + 1))


def test_fragments_bring_only_the_new_rows_and_every_section_out_of_band(client, loan):
    client.force_login(loan.root)
    before = loan.instance.history_seq
    services.task_complete(task=loan.task, user=loan.root, variables={"decision": "approve"})
    loan.instance.refresh_from_db()
    response = client.get(f"/instances/{loan.instance.pk}/fragments/?after={before}&order=desc")
    body = response.content.decode()
    assert response["X-Instance-Seq"] == str(loan.instance.history_seq)
    for section in ("instance-summary", "instance-markers", "instance-tokens", "instance-tasks",
                    "instance-incidents", "instance-variables"):
        assert re.search(rf'id="{section}"[^>]*hx-swap-oob="true"', body), section
    assert '<template><tbody hx-swap-oob="afterbegin:#history-rows">' in body
    seqs = [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', body)]
    assert seqs == list(range(loan.instance.history_seq, before, -1))
    markers = _markers(body)
    assert markers["active"] == {} and markers["status"] == "completed"
    assert "EndEvent_approved" in markers["done_nodes"] and "Flow_approved" in markers["done_flows"]
    assert "Flow_rejected" not in markers["done_flows"]
    assert 'data-status="completed"' in body and "No open tasks." in body


def test_fragments_oldest_first_append_and_full_replaces(client, loan):
    client.force_login(loan.root)
    url = f"/instances/{loan.instance.pk}/fragments/"
    assert "beforeend:#history-rows" in client.get(url + "?after=3&order=asc").content.decode()
    full = client.get(url + "?after=3&full=1").content.decode()
    assert re.search(r'<section id="instance-history"[^>]*hx-swap-oob="true"', full)
    assert len(re.findall(r'<tr data-seq=', full)) == loan.instance.history_seq
    # A page claiming a seq from the future is confused: it gets everything.
    assert re.search(r'<section id="instance-history"', client.get(url + "?after=999").content.decode())
    nothing_new = client.get(url + f"?after={loan.instance.history_seq}").content.decode()
    assert "history-rows" not in nothing_new


def test_open_incident_is_red_on_the_diagram_and_retry_resolves_it(client, loan):
    Incident.objects.create(instance=loan.instance, node_id="Task_review", message="connector exploded", attempts=4)
    type(loan.instance).objects.filter(pk=loan.instance.pk).update(has_incident=True, incident_count=1)
    client.force_login(loan.root)
    body = client.get(f"/instances/{loan.instance.pk}/").content.decode()
    assert _markers(body)["incidents"] == ["Task_review"]
    assert "connector exploded" in body and "Retry incidents" in body
    response = client.post(f"/instances/{loan.instance.pk}/retry/", follow=True)
    assert response.status_code == 200 and "Incidents sent for retry." in response.content.decode()
    assert Incident.objects.get().state == "resolved"
    assert _markers(response.content.decode())["incidents"] == []


def test_suspend_resume_cancel_go_through_the_services(client, loan):
    client.force_login(loan.root)
    url = f"/instances/{loan.instance.pk}/"
    client.post(url + "suspend/")
    loan.instance.refresh_from_db()
    assert loan.instance.status == InstanceStatus.SUSPENDED
    body = client.get(url).content.decode()
    assert "Resume" in body and ">Suspend<" not in body
    client.post(url + "resume/")
    response = client.post(url + "cancel/", follow=True)
    loan.instance.refresh_from_db()
    assert loan.instance.status == InstanceStatus.CANCELLED
    body = response.content.decode()
    assert "Instance cancelled." in body and "Cancel instance" not in body
    # A second cancel is a conflict the service explains; the page says so instead of failing.
    response = client.post(url + "cancel/", follow=True)
    assert response.status_code == 200 and "is cancelled" in response.content.decode()


def test_a_candidate_officer_may_watch_but_not_operate(client, loan):
    officer = User.objects.create_user("olga")
    officer.groups.add(Group.objects.get(name="loan-officers"))
    client.force_login(officer)
    body = client.get(f"/instances/{loan.instance.pk}/").content.decode()
    assert "Review application" in body and "Cancel instance" not in body
    assert client.post(f"/instances/{loan.instance.pk}/cancel/").status_code == 403


def test_a_fork_marks_every_branch_and_a_join_counts_its_waiting_tokens(db):
    from designer.services import version_deploy
    from tests.runtime.instance_pages import DATA

    root = User.objects.create_superuser("root2", email="", password=None)
    version_deploy(xml=(DATA / "parallel_review.bpmn").read_text(), user=root)
    instance = services.instance_start(process_key="parallel_review", user=root)
    overlay = monitoring.diagram_overlay(instance=instance)
    assert overlay["active"] == {"Task_sales_review": 1, "Task_finance_review": 1, "Task_risk_review": 1}
    assert {"Flow_to_split", "Flow_to_sales", "Flow_to_finance", "Flow_to_risk"} <= set(overlay["done_flows"])
    assert "Gateway_split" in overlay["done_nodes"]
    for node, field in (("Task_sales_review", "sales_ok"), ("Task_finance_review", "finance_ok")):
        task = HumanTask.objects.get(instance=instance, node_id=node)
        services.task_complete(task=task, user=root, variables={field: True})
    instance.refresh_from_db()
    overlay = monitoring.diagram_overlay(instance=instance)
    assert overlay["active"].get("Task_risk_review") == 1
    assert overlay["active"].get("Gateway_join") == 2  # two tokens wait at the join


def test_a_page_far_behind_is_rebuilt_instead_of_sent_every_row(client, loan, monkeypatch):
    monkeypatch.setattr(monitoring, "HISTORY_LIMIT", 5)
    client.force_login(loan.root)
    url = f"/instances/{loan.instance.pk}/fragments/"
    body = client.get(url + f"?after={loan.instance.history_seq - 5}").content.decode()
    assert "afterbegin:#history-rows" in body and len(re.findall(r"<tr data-seq=", body)) == 5
    body = client.get(url + "?after=1").content.decode()  # 8 behind, more than the limit
    assert re.search(r'<section id="instance-history"[^>]*hx-swap-oob="true"', body)
    assert len(re.findall(r"<tr data-seq=", body)) == 5 and "show all" in body
