"""A worker that applies a call's outcome runs the instance's next service call itself:
claimed in the apply transaction (history shows the claim), no wake-up through the broker,
and a worker lost in the middle is recovered by the reconciler like any running call."""
from datetime import timedelta

import pytest
from django.utils import timezone

from runtime import jobs, services, workers
from runtime.engine.testing.builder import GraphBuilder
from runtime.models import HistoryEvent, ServiceCall
from tests.runtime.graphs import HANDLERS

pytestmark = pytest.mark.django_db


def three_calls(key="chain"):
    b = GraphBuilder(key)
    b.start("s")
    for i in (1, 2, 3):
        b.service(f"c{i}", connector="python", handler=HANDLERS + "ok", result_variable=f"r{i}",
                  inputs=[{"name": "n", "expr": f"n + {i}"}])
    b.end("e").chain("s", "c1", "c2", "c3", "e")
    return b


@pytest.fixture
def sent(monkeypatch):
    """The wake-ups handed to the broker, by task name (nothing is run)."""
    from runtime.store import wakeups

    out = []
    monkeypatch.setattr(wakeups, "send_now", lambda pending: out.extend((name, args) for name, args, _ in pending))
    return out


def test_one_wake_up_runs_every_call_of_a_straight_chain(deploy, handlers, sent, django_capture_on_commit_callbacks):
    deploy(three_calls())
    with django_capture_on_commit_callbacks(execute=True):
        instance = services.instance_start(process_key="chain", variables={"n": 1})
    first = ServiceCall.objects.get()
    assert sent == [("service_call_execute_task", (first.pk,))]
    with django_capture_on_commit_callbacks(execute=True):
        assert workers.service_call_execute(call_id=first.pk) == "succeeded"
    instance.refresh_from_db()
    assert instance.status == "completed" and instance.variables["r3"] == {"doubled": 8}
    assert len(sent) == 1  # the second and third calls never went through the broker
    calls = list(ServiceCall.objects.order_by("pk"))
    assert [(c.node_id, c.state, c.attempt) for c in calls] == [("c1", "succeeded", 1), ("c2", "succeeded", 1),
                                                                ("c3", "succeeded", 1)]
    assert [key for _, key in handlers.CALLS] == [c.idempotency_key for c in calls]
    for call in calls:
        states = list(HistoryEvent.objects.filter(instance=instance, type="service_call.state", data__call=call.pk)
                      .order_by("seq").values_list("from_state", "to_state"))
        assert states == [("", "pending"), ("pending", "running"), ("running", "succeeded")]
    seqs = list(HistoryEvent.objects.filter(instance=instance).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_duplicate_wake_up_for_a_call_run_locally_is_a_recorded_no_op(deploy, handlers, sent,
                                                                        django_capture_on_commit_callbacks):
    deploy(three_calls())
    with django_capture_on_commit_callbacks(execute=True):
        instance = services.instance_start(process_key="chain", variables={"n": 1})
        workers.service_call_execute(call_id=ServiceCall.objects.get().pk)
    second = ServiceCall.objects.get(node_id="c2")
    assert workers.service_call_execute(call_id=second.pk) == "skipped"
    assert len(handlers.CALLS) == 3
    assert HistoryEvent.objects.filter(instance=instance, type="event.ignored", data__call=second.pk).exists()


def test_a_worker_lost_after_claiming_the_next_call_is_recovered(deploy, handlers, sent, monkeypatch,
                                                                 django_capture_on_commit_callbacks, wakeups):
    deploy(three_calls())
    with django_capture_on_commit_callbacks(execute=True):
        instance = services.instance_start(process_key="chain", variables={"n": 1})
    first = ServiceCall.objects.get()
    real_apply = workers._apply

    def apply_then_die(*args, **kwargs):
        state, nxt = real_apply(*args, **kwargs)
        if nxt is not None:
            raise SystemExit("worker killed")  # after the commit that claimed the next call
        return state, nxt

    monkeypatch.setattr(workers, "_apply", apply_then_die)
    with pytest.raises(SystemExit):
        workers.service_call_execute(call_id=first.pk)
    monkeypatch.setattr(workers, "_apply", real_apply)
    second = ServiceCall.objects.get(node_id="c2")
    assert second.state == "running" and second.attempt == 1 and len(handlers.CALLS) == 1
    assert jobs.reconcile_wakeups() == 0  # within the lease nothing is touched
    monkeypatch.undo()
    with wakeups():
        jobs.reconcile_wakeups(now=timezone.now() + timedelta(seconds=200))
    instance.refresh_from_db()
    second.refresh_from_db()
    assert instance.status == "completed"
    assert second.state == "succeeded" and second.attempt == 2
    assert HistoryEvent.objects.filter(instance=instance, data__reason="worker lost (lease expired)").exists()


def test_a_call_cancelled_in_the_transaction_that_claimed_it_is_not_run(deploy, handlers, sent):
    from runtime.store import UnitOfWork
    from django.db import transaction

    from runtime.engine import events as ev

    deploy(three_calls())
    instance = services.instance_start(process_key="chain", variables={"n": 1})
    first = ServiceCall.objects.get()
    first.state, first.attempt = "running", 1
    first.save(update_fields=["state", "attempt"])
    with transaction.atomic():
        uow = UnitOfWork(actor="system:connector")
        uow.run_calls_here = True
        locked = uow.lock(instance.pk)
        first.state = "succeeded"
        first.save(update_fields=["state"])
        uow.feed(locked, ev.ServiceCallSucceeded(wait_id=first.wait_id, result=1))
        assert uow.call_here is not None and uow.call_here.node_id == "c2"
        uow.feed(locked, ev.Cancel(reason="operator"))
        assert uow.call_here is None
        uow.commit()
    assert ServiceCall.objects.get(node_id="c2").state == "cancelled"


def test_an_instance_changed_since_the_claim_is_read_again_before_the_outcome_lands(deploy, handlers, sent, users):
    """The worker keeps the instance as its claim committed it; an operator's suspend in
    between must not be overwritten by that copy, nor the next call taken while suspended."""
    from runtime.connectors import CallOutcome

    deploy(three_calls())
    instance = services.instance_start(process_key="chain", variables={"n": 1})
    call, _ = workers._claim_attempt(ServiceCall.objects.get().pk)
    services.instance_suspend(instance=instance.pk, user=users.root)
    state, nxt = workers._apply(call, instance.pk, CallOutcome("ok", result={"doubled": 4}), run_next_here=True)
    assert state == "succeeded" and nxt is None  # the outcome lands, the next call waits for resume
    instance.refresh_from_db()
    assert instance.status == "suspended" and instance.variables["r1"] == {"doubled": 4}
    assert ServiceCall.objects.get(node_id="c2").state == "pending"
    seqs = list(HistoryEvent.objects.filter(instance=instance).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_late_outcome_of_an_attempt_claimed_again_is_ignored(deploy, handlers, sent):
    """Same state and attempt number, but a later claim (started_at): not this worker's attempt."""
    from runtime.connectors import CallOutcome

    deploy(three_calls())
    instance = services.instance_start(process_key="chain", variables={"n": 1})
    call, _ = workers._claim_attempt(ServiceCall.objects.get().pk)
    ServiceCall.objects.filter(pk=call.pk).update(started_at=call.started_at + timedelta(seconds=5))
    assert workers._apply(call, instance.pk, CallOutcome("ok", result=1), run_next_here=True) == ("ignored", None)
    assert ServiceCall.objects.get(pk=call.pk).state == "running"
    assert HistoryEvent.objects.filter(instance=instance, type="event.ignored", data__call=call.pk).exists()


def test_a_chain_locks_its_instance_without_reading_it_again(deploy, handlers, sent, monkeypatch,
                                                             django_capture_on_commit_callbacks):
    """Each apply reuses the instance as the claim or the previous apply committed it (a
    version check under the lock), so no apply of an undisturbed chain reads the row in full."""
    from runtime.store import UnitOfWork

    deploy(three_calls())
    with django_capture_on_commit_callbacks(execute=True):
        instance = services.instance_start(process_key="chain", variables={"n": 1})
    full_reads = []
    real_lock = UnitOfWork.lock
    monkeypatch.setattr(UnitOfWork, "lock", lambda self, pk: full_reads.append(pk) or real_lock(self, pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert workers.service_call_execute(call_id=ServiceCall.objects.get().pk) == "succeeded"
    instance.refresh_from_db()
    assert instance.status == "completed" and full_reads == []
