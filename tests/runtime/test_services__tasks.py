"""Human tasks through the services: permissions, claim/unclaim, completion with form
validation, and completing twice as a recorded no-op."""
import pytest

from runtime import selectors, services
from runtime.models import HistoryEvent, HumanTask, ProcessInstance
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(deploy, users, wakeups):
    deploy(graphs.loan())
    with wakeups():
        services.instance_start(process_key="loan", variables={"amount": 5000}, user=users.carol)
    return HumanTask.objects.get()


def test_a_task_goes_to_its_candidate_group(task, users):
    assert task.state == "open" and not task.open_to_all
    assert [g.name for g in task.candidate_groups.all()] == ["reviewers"]
    assert list(selectors.task_list_for_user(user=users.alice)) == [task]
    assert list(selectors.task_list_for_user(user=users.carol)) == []
    assert list(selectors.task_list_for_user(user=users.root)) == [task]


def test_only_candidates_may_claim(task, users):
    with pytest.raises(services.PermissionDenied):
        services.task_claim(task=task, user=users.carol)
    claimed = services.task_claim(task=task, user=users.alice)
    assert claimed.state == "claimed" and claimed.assignee == users.alice
    assert list(selectors.task_list_for_user(user=users.alice, mine=True)) == [task]
    with pytest.raises(services.Conflict, match="claimed"):
        services.task_claim(task=task, user=users.bob)


def test_unclaim_returns_the_task_to_the_pool(task, users):
    services.task_claim(task=task, user=users.alice)
    with pytest.raises(services.PermissionDenied):
        services.task_unclaim(task=task, user=users.bob)
    back = services.task_unclaim(task=task, user=users.alice)
    assert back.state == "open" and back.assignee is None
    services.task_claim(task=task, user=users.bob)


def test_a_claimed_task_is_completed_only_by_its_assignee(task, users, wakeups):
    services.task_claim(task=task, user=users.alice)
    with pytest.raises(services.PermissionDenied):
        services.task_complete(task=task, user=users.bob, variables={"approved": True})
    with wakeups():
        done = services.task_complete(task=task, user=users.alice, variables={"approved": "true", "note": "fine"})
    assert done.state == "completed" and done.completed_by == users.alice
    instance = ProcessInstance.objects.get()
    assert instance.status == "completed"
    assert instance.variables["approved"] is True and instance.variables["paid"] == 5000
    assert instance.variables["level"] == "low"  # the form default


def test_a_candidate_may_complete_an_open_task_directly(task, users, wakeups):
    with wakeups():
        done = services.task_complete(task=task, user=users.bob, variables={"approved": False})
    assert done.assignee == users.bob
    assert ProcessInstance.objects.get().status == "completed"


def test_form_errors_come_back_per_field_and_change_nothing(task, users):
    with pytest.raises(services.TaskFormInvalid) as exc:
        services.task_complete(task=task, user=users.alice, variables={"level": "medium", "extra": 1})
    assert set(exc.value.errors) == {"approved", "level", "extra"}
    task.refresh_from_db()
    assert task.state == "open"
    assert not HistoryEvent.objects.filter(type="human_task.state", to_state="completed").exists()


def test_completing_twice_is_a_recorded_no_op(task, users, wakeups):
    with wakeups():
        services.task_complete(task=task, user=users.alice, variables={"approved": True})
    instance = ProcessInstance.objects.get()
    seq = instance.history_seq
    with pytest.raises(services.Conflict, match="already completed"):
        services.task_complete(task=task, user=users.alice, variables={"approved": False})
    instance.refresh_from_db()
    assert instance.variables["approved"] is True and instance.variables["paid"] == 5000
    ignored = HistoryEvent.objects.get(instance=instance, seq=seq + 1)
    assert ignored.type == "event.ignored" and ignored.actor == "alice"
    assert instance.history_seq == seq + 1


def test_a_task_without_candidates_is_open_to_everyone(deploy, users, wakeups):
    deploy(graphs.fork_join("solo", branches=1))
    with wakeups():
        services.instance_start(process_key="solo", user=users.carol)
    task = HumanTask.objects.get()
    assert task.open_to_all
    assert list(selectors.task_list_for_user(user=users.carol)) == [task]
    services.task_claim(task=task, user=users.carol)


def test_assignee_expression_uses_the_initiator(deploy, users, wakeups):
    from runtime.engine.testing.builder import GraphBuilder

    b = GraphBuilder("mine")
    b.start("s").user("own", assignee="=initiator", priority="80", due_date="P2D").end("e").chain("s", "own", "e")
    deploy(b)
    with wakeups():
        services.instance_start(process_key="mine", user=users.carol)
    task = HumanTask.objects.get()
    assert task.state == "claimed" and task.assignee == users.carol and task.priority == 80
    assert task.due_at is not None
    assert list(selectors.task_list_for_user(user=users.alice)) == []
    with pytest.raises(services.PermissionDenied):
        services.task_complete(task=task, user=users.alice)


def test_tasks_of_a_suspended_instance_cannot_be_completed(task, users):
    services.instance_suspend(instance=task.instance, user=users.root)
    with pytest.raises(services.Conflict, match="suspended"):
        services.task_complete(task=task, user=users.alice, variables={"approved": True})


def test_unknown_task_is_not_found(users, db):
    with pytest.raises(services.NotFound):
        services.task_claim(task=999, user=users.alice)
