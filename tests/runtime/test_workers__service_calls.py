"""Service calls: run outside the lock with a stable idempotency key, retries persisted on
the row, exhaustion as an incident an operator retries, business errors as BPMN errors."""
from datetime import timedelta

import pytest
from django.utils import timezone

from runtime import jobs, services, workers
from runtime.models import HistoryEvent, Incident, ProcessInstance, ServiceCall
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


def run_due_calls():
    """What the reconciler does for calls whose delayed wake-up is due (here: now)."""
    ServiceCall.objects.filter(state="pending").update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    for call in ServiceCall.objects.filter(state="pending"):
        workers.service_call_execute(call_id=call.pk)


def test_a_successful_call_stores_its_result_and_moves_on(deploy, handlers, wakeups):
    deploy(graphs.service())
    with wakeups():
        instance = services.instance_start(process_key="svc", variables={"n": 21})
    instance.refresh_from_db()
    call = ServiceCall.objects.get()
    assert instance.status == "completed" and instance.variables["answer"] == {"doubled": 42}
    assert call.state == "succeeded" and call.attempt == 1 and call.result == {"doubled": 42}
    assert handlers.CALLS == [({"n": 21}, f"{instance.pk}:{call.wait_id}")]
    states = list(HistoryEvent.objects.filter(instance=instance, type="service_call.state").values_list("to_state", flat=True))
    assert states == ["pending", "running", "succeeded"]


def test_retries_keep_the_idempotency_key_and_persist_their_backoff(deploy, handlers, wakeups, eager_celery):
    handlers.FAILURES["left"] = 2
    deploy(graphs.service(handler="flaky"))
    eager_celery.conf.task_always_eager = False  # keep the delayed retry wake-ups off the test's back
    try:
        with wakeups():
            instance = services.instance_start(process_key="svc", variables={"n": 1})
        workers.service_call_execute(call_id=ServiceCall.objects.get().pk)
    finally:
        eager_celery.conf.task_always_eager = True
    call = ServiceCall.objects.get()
    assert call.state == "pending" and call.attempt == 1 and "try later" in call.last_error
    assert call.next_attempt_at > timezone.now()  # PT1S backoff, on the row: survives restarts
    assert workers.service_call_execute(call_id=call.pk) == "skipped"  # too early: nothing happens
    with wakeups():
        run_due_calls()
        run_due_calls()
    call.refresh_from_db()
    instance.refresh_from_db()
    assert call.state == "succeeded" and call.attempt == 3
    assert instance.status == "completed" and instance.variables["answer"] == "finally"
    assert {key for _, key in handlers.CALLS} == {call.idempotency_key}


def test_exhausted_retries_open_an_incident_and_retry_starts_over(deploy, handlers, users, wakeups, eager_celery):
    handlers.FAILURES["left"] = 10
    deploy(graphs.service(handler="flaky", retries=1))
    eager_celery.conf.task_always_eager = False
    try:
        with wakeups():
            instance = services.instance_start(process_key="svc", variables={"n": 1})
        workers.service_call_execute(call_id=ServiceCall.objects.get().pk)
        run_due_calls()
    finally:
        eager_celery.conf.task_always_eager = True
    call = ServiceCall.objects.get()
    instance.refresh_from_db()
    assert call.state == "incident" and call.attempt == 2
    assert instance.status == "running" and instance.has_incident
    incident = Incident.objects.get()
    assert incident.service_call == call and incident.attempts == 2 and "try later" in incident.detail
    handlers.FAILURES["left"] = 0
    with wakeups():
        services.instance_retry(instance=instance, user=users.root)
    call.refresh_from_db()
    instance.refresh_from_db()
    incident.refresh_from_db()
    assert call.state == "succeeded" and call.attempt == 1
    assert incident.state == "resolved" and not instance.has_incident
    assert instance.status == "completed"


def test_a_business_error_is_caught_by_an_error_boundary(deploy, handlers, wakeups):
    deploy(graphs.service(handler="refuse", boundary=True))
    with wakeups():
        instance = services.instance_start(process_key="svc", variables={"n": 1})
    instance.refresh_from_db()
    assert instance.status == "completed" and instance.state["ended_by"] == "failed"
    assert ServiceCall.objects.get().state == "failed"
    assert len(handlers.CALLS) == 1  # never retried


def test_an_uncaught_business_error_fails_the_instance(deploy, handlers, wakeups):
    deploy(graphs.service(handler="refuse"))
    with wakeups():
        instance = services.instance_start(process_key="svc", variables={"n": 1})
    instance.refresh_from_db()
    assert instance.status == "failed"


def test_a_handler_outside_the_allow_list_is_an_incident_at_once(deploy, settings, wakeups):
    settings.FLOWYARD = {**settings.FLOWYARD, "PYTHON_HANDLERS": []}
    deploy(graphs.service())
    with wakeups():
        instance = services.instance_start(process_key="svc", variables={"n": 1})
    instance.refresh_from_db()
    assert instance.has_incident and ServiceCall.objects.get().attempt == 1
    assert "not allowed" in Incident.objects.get().detail


def test_a_duplicate_wake_up_is_a_recorded_no_op(deploy, handlers, wakeups):
    deploy(graphs.service())
    with wakeups():
        instance = services.instance_start(process_key="svc", variables={"n": 1})
    assert workers.service_call_execute(call_id=ServiceCall.objects.get().pk) == "skipped"
    assert len(handlers.CALLS) == 1
    assert HistoryEvent.objects.filter(instance=instance, type="event.ignored").exists()


def test_cancelling_while_a_call_runs_drops_its_late_outcome(deploy, handlers, users, wakeups, eager_celery):
    from runtime.connectors import CallOutcome

    deploy(graphs.service())
    eager_celery.conf.task_always_eager = False
    try:
        with wakeups():
            instance = services.instance_start(process_key="svc", variables={"n": 1})
        call, _ = workers._claim_attempt(ServiceCall.objects.get().pk)
        services.instance_cancel(instance=instance, user=users.root)
        assert workers._apply_outcome(call.pk, instance.pk, call.attempt, CallOutcome("ok", result=1)) == "ignored"
    finally:
        eager_celery.conf.task_always_eager = True
    instance.refresh_from_db()
    assert instance.status == "cancelled" and ServiceCall.objects.get().state == "cancelled"


def test_the_reconciler_resends_pending_calls_and_recovers_lost_workers(deploy, handlers, wakeups, eager_celery):
    deploy(graphs.service())
    eager_celery.conf.task_always_eager = False
    try:
        with wakeups():
            instance = services.instance_start(process_key="svc", variables={"n": 2})
        call, _ = workers._claim_attempt(ServiceCall.objects.get().pk)  # ...and the worker dies
    finally:
        eager_celery.conf.task_always_eager = True
    assert jobs.reconcile_wakeups() == 0  # within the lease nothing is touched
    with wakeups():
        jobs.reconcile_wakeups(now=timezone.now() + timedelta(seconds=200))
    instance.refresh_from_db()
    call.refresh_from_db()
    assert call.state == "succeeded" and call.attempt == 2
    assert instance.status == "completed"
    assert HistoryEvent.objects.filter(instance=instance, data__reason="worker lost (lease expired)").exists()
