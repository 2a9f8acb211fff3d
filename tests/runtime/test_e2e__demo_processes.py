"""End to end through the public functions with a real worker: the demo BPMN files from
tests/data run to completion. On SQLite the embedded worker (memory broker, scheduler
thread) does the background work; in service mode a separate `celery worker` process
on Redis does, with the scheduler loop running here."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from designer.services import version_deploy
from runtime import services
from runtime.engine.testing.builder import GraphBuilder
from runtime.models import HumanTask, ProcessInstance, ServiceCall, TimerJob
from tests.runtime.conftest import deploy_graph

DATA = Path(__file__).resolve().parent.parent / "data"


def deploy_file(name: str):
    return version_deploy(xml=(DATA / name).read_bytes(), accept_warnings=True).version


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def status_of(instance) -> str:
    return ProcessInstance.objects.values_list("status", flat=True).get(pk=instance.pk)


def member(name: str, *groups: str) -> User:
    user = User.objects.create_user(name)
    for group in groups:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def run_demo_processes():
    officer = member("olga", "loan-officers")
    reviewers = {g: member(f"{g}-lead", g) for g in ("sales", "finance", "risk")}
    buyer = member("bea")

    # 1. Loan approval: a script, a human task with a form, an exclusive gateway.
    deploy_file("loan_approval.bpmn")
    loan = services.instance_start(process_key="loan_approval", variables={"amount": 20000, "income": 50000},
                                   business_key="LOAN-1")
    task = HumanTask.objects.get(instance=loan)
    assert task.priority == 50 and [g.name for g in task.candidate_groups.all()] == ["loan-officers"]
    with pytest.raises(services.TaskFormInvalid):
        services.task_complete(task=task, user=officer, variables={"decision": "maybe"})
    services.task_complete(task=task, user=officer, variables={"decision": "approve"})
    loan.refresh_from_db()
    assert loan.status == "completed" and loan.state["ended_by"] == "EndEvent_approved"
    assert loan.variables["approved_amount"] == 20000  # the form default

    # 2. Parallel review: three lanes are three candidate groups; the join fires once.
    deploy_file("parallel_review.bpmn")
    review = services.instance_start(process_key="parallel_review", variables={"contract": "C-7"})
    tasks = list(HumanTask.objects.filter(instance=review))
    assert sorted(t.candidate_groups.get().name for t in tasks) == ["finance", "risk", "sales"]
    for t in tasks:
        group = t.candidate_groups.get().name
        services.task_complete(task=t, user=reviewers[group], variables={f"{group}_ok": True})
    assert status_of(review) == "completed"

    # 3. Quote race: the message wins for one instance, the timer (via the scheduler) for another.
    deploy_file("quote_race.bpmn")
    won = services.instance_start(process_key="quote_race", variables={"request_id": "Q-1"}, user=buyer)
    lost = services.instance_start(process_key="quote_race", variables={"request_id": "Q-2"}, user=buyer)
    services.message_correlate(name="quote_received", correlation_key="Q-1", variables={"price": 120})
    compare = HumanTask.objects.get(instance=won)
    assert compare.assignee == buyer
    services.task_complete(task=compare, user=buyer, variables={"accept": True})
    assert status_of(won) == "completed"
    TimerJob.objects.filter(instance=lost, state="scheduled").update(due_at=timezone.now() - timedelta(seconds=1))
    wait_for(lambda: status_of(lost) == "completed", what="the 24h timer to fire through the scheduler")
    lost.refresh_from_db()
    assert lost.state["ended_by"] == "EndEvent_no_quote"

    # 4. A service task through the worker: fails once, retried after its persisted backoff.
    b = GraphBuilder("echo")
    b.start("s").service("call", connector="python", handler="runtime.demo_handlers.flaky_echo",
                         result_variable="answer", inputs=[{"name": "x", "expr": "x"}]).end("e").chain("s", "call", "e")
    deploy_graph(b)
    echo = services.instance_start(process_key="echo", variables={"x": 5})
    wait_for(lambda: status_of(echo) == "completed", what="the service call to succeed on its retry")
    echo.refresh_from_db()
    call = ServiceCall.objects.get(instance=echo)
    assert call.attempt == 2 and echo.variables["answer"]["echo"] == {"x": 5}


@pytest.mark.django_db(transaction=True)
def test_demo_processes_run_with_the_embedded_worker(embedded_worker):
    run_demo_processes()


@pytest.fixture
def scheduler_thread():
    from django.db import connections

    from runtime import scheduler

    def loop():
        try:
            scheduler.run_forever(stop)
        finally:
            connections.close_all()  # or the test database cannot be dropped

    stop = threading.Event()
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


@pytest.mark.service
@pytest.mark.django_db(transaction=True)
def test_demo_processes_run_with_a_celery_worker_process(celery_worker_process, scheduler_thread):
    run_demo_processes()
