"""A call turned away by an open circuit never reached its endpoint: it waits for the
half-open moment without spending its retry budget, so a short outage of one endpoint does
not turn every instance waiting on it into an incident."""
from datetime import timedelta

import pytest
from django.utils import timezone

from runtime import services, workers
from runtime.connectors.base import RETRYABLE, CallOutcome
from runtime.models import HistoryEvent, Incident, ServiceCall
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


def due_now():
    ServiceCall.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_an_open_circuit_reschedules_the_call_without_spending_an_attempt(deploy, handlers, wakeups, eager_celery,
                                                                         monkeypatch):
    deploy(graphs.service(retries=1))  # two attempts in all
    real_execute = workers.execute
    turned_away = CallOutcome(RETRYABLE, message="circuit open for python:tests", circuit_open=True, retry_after=7.0)
    eager_celery.conf.task_always_eager = False  # keep the delayed wake-ups off the test's back
    try:
        with wakeups():
            instance = services.instance_start(process_key="svc", variables={"n": 21})
        call = ServiceCall.objects.get()
        monkeypatch.setattr(workers, "execute", lambda request: turned_away)
        for _ in range(4):  # twice the budget
            due_now()
            assert workers.service_call_execute(call_id=call.pk) == "pending"
        call.refresh_from_db()
        assert call.state == "pending" and call.attempt == 0 and not Incident.objects.exists()
        assert call.next_attempt_at > timezone.now() + timedelta(seconds=6)  # the breaker's half-open moment
        retries = HistoryEvent.objects.filter(instance=instance, type="service_call.state", to_state="pending",
                                              data__circuit_open=True)
        assert retries.count() == 4

        monkeypatch.setattr(workers, "execute", real_execute)  # the circuit closed again
        due_now()
        with wakeups():
            workers.service_call_execute(call_id=call.pk)
    finally:
        eager_celery.conf.task_always_eager = True
    call.refresh_from_db()
    instance.refresh_from_db()
    assert call.state == "succeeded" and call.attempt == 1
    assert instance.status == "completed" and instance.variables["answer"] == {"doubled": 42}


def test_real_failures_still_spend_the_budget(deploy, handlers, wakeups, eager_celery):
    handlers.FAILURES["left"] = 10
    deploy(graphs.service(handler="flaky", retries=1))
    eager_celery.conf.task_always_eager = False
    try:
        with wakeups():
            services.instance_start(process_key="svc", variables={"n": 1})
        call = ServiceCall.objects.get()
        for _ in range(2):
            due_now()
            workers.service_call_execute(call_id=call.pk)
    finally:
        eager_celery.conf.task_always_eager = True
    call.refresh_from_db()
    assert call.state == "incident" and call.attempt == 2
