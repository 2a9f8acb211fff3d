"""Timers are rows fired by the scheduler's job function: they fire once, late timers
after cancellation are recorded no-ops, and a timer due while no scheduler ran fires
once when one returns. Timer start events start instances."""
from datetime import timedelta

import pytest
from django.utils import timezone

from runtime import jobs, services, workers
from runtime.engine.testing.builder import GraphBuilder, timer
from runtime.models import HistoryEvent, ProcessInstance, TimerJob
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


def later(seconds):
    return timezone.now() + timedelta(seconds=seconds)


def test_a_timer_waits_for_its_due_time_then_fires_once(deploy, wakeups):
    deploy(graphs.timer_wait(duration="PT10S"))
    with wakeups():
        instance = services.instance_start(process_key="sleepy")
    job = TimerJob.objects.get()
    assert job.state == "scheduled" and job.instance == instance
    with wakeups():
        assert jobs.fire_due_timers() == 0  # not yet due
        # a scheduler whose clock runs ahead dispatches it; the worker refuses to fire early
        assert jobs.fire_due_timers(now=later(11)) == 1
    instance.refresh_from_db()
    assert instance.status == "running"
    TimerJob.objects.update(due_at=timezone.now() - timedelta(seconds=1), dispatched_at=None)
    with wakeups():
        assert jobs.fire_due_timers() == 1
        assert jobs.fire_due_timers() == 0  # fired: nothing left to dispatch
    instance.refresh_from_db()
    job.refresh_from_db()
    assert instance.status == "completed" and job.state == "fired" and job.fired_count == 1


def test_a_duplicate_timer_wake_up_is_a_recorded_no_op(deploy, wakeups):
    deploy(graphs.timer_wait(duration="PT0S"))
    with wakeups():
        instance = services.instance_start(process_key="sleepy")
        jobs.fire_due_timers()
    job = TimerJob.objects.get()
    assert workers.timer_fire(job_id=job.pk) is False
    ignored = HistoryEvent.objects.filter(instance=instance, type="event.ignored").get()
    assert ignored.data["reason"] == "timer already fired"


def test_a_late_timer_after_cancellation_changes_nothing(deploy, users, wakeups):
    deploy(graphs.timer_wait(duration="PT0S"))
    with wakeups():
        instance = services.instance_start(process_key="sleepy")
    job = TimerJob.objects.get()
    services.instance_cancel(instance=instance, user=users.root)
    assert workers.timer_fire(job_id=job.pk) is False
    instance.refresh_from_db()
    assert instance.status == "cancelled"
    assert HistoryEvent.objects.filter(instance=instance, type="event.ignored").exists()


def test_a_timer_due_while_no_scheduler_ran_fires_once_when_it_returns(deploy, wakeups):
    deploy(graphs.timer_wait(duration="PT1S"))
    with wakeups():
        instances = [services.instance_start(process_key="sleepy") for _ in range(3)]
    # every process "restarts": a wake-up was stamped as sent but never delivered
    TimerJob.objects.update(due_at=timezone.now() - timedelta(hours=1), dispatched_at=timezone.now() - timedelta(hours=1))
    with wakeups():
        assert jobs.fire_due_timers() == 3
        assert jobs.fire_due_timers() == 0
    assert set(ProcessInstance.objects.values_list("status", flat=True)) == {"completed"}
    assert list(TimerJob.objects.values_list("fired_count", flat=True)) == [1, 1, 1]
    assert len(instances) == 3


def test_a_dispatched_timer_is_not_sent_again_within_its_lease(deploy, wakeups, eager_celery):
    deploy(graphs.timer_wait(duration="PT0S"))
    with wakeups():
        services.instance_start(process_key="sleepy")
    eager_celery.conf.task_always_eager = False  # the wake-up goes to a broker nobody reads
    try:
        with wakeups():
            assert jobs.fire_due_timers() == 1
    except Exception:  # no broker in this test: the send fails and is only logged
        pass
    finally:
        eager_celery.conf.task_always_eager = True
    assert jobs.fire_due_timers() == 0
    assert jobs.fire_due_timers(now=later(jobs.conf("TIMER_LEASE") + 1)) == 1


def test_boundary_timer_interrupts_a_task(deploy, wakeups):
    b = GraphBuilder("escalate")
    b.start("s").user("work").boundary("too-slow", "work", timer("duration", "PT0S")).end("done").end("escalated")
    b.chain("s", "work", "done").chain("too-slow", "escalated")
    deploy(b)
    with wakeups():
        instance = services.instance_start(process_key="escalate")
        jobs.fire_due_timers(now=later(1))
    instance.refresh_from_db()
    assert instance.status == "completed" and instance.state["ended_by"] == "escalated"
    assert instance.human_tasks.get().state == "cancelled"


def test_timer_start_events_are_scheduled_for_the_latest_version_and_start_instances(deploy, wakeups):
    b = GraphBuilder("nightly")
    b.start("s", event=timer("cycle", "R2/PT1H")).end("e").chain("s", "e")
    v1 = deploy(b)
    assert jobs.sync_timer_starts() == 1
    assert jobs.sync_timer_starts() == 0
    job = TimerJob.objects.get()
    assert job.instance is None and job.version == v1 and job.repeats_left == 1
    TimerJob.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    with wakeups():
        jobs.fire_due_timers()
    job.refresh_from_db()
    assert ProcessInstance.objects.get().status == "completed"
    assert job.state == "scheduled" and job.fired_count == 1 and job.repeats_left == 0
    assert job.due_at > timezone.now()
    # a new version takes over the schedule
    v2 = deploy(b)
    jobs._synced_versions.clear()
    assert jobs.sync_timer_starts() == 1
    assert TimerJob.objects.get(version=v1).state == "cancelled"
    assert TimerJob.objects.get(version=v2).state == "scheduled"
