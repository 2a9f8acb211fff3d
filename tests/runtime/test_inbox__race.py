"""Two people claim the same task at the same instant: exactly one wins, the other is told
who did, and the history holds one claim. Real PostgreSQL row locks, real threads, a
barrier so both requests are in flight together, bounded joins so a deadlock fails."""
import threading

import pytest
from django.db import connection, connections

from runtime import services
from runtime.models import HistoryEvent, HumanTask
from tests.runtime.inbox_setup import People, deploy_fixture, start_loan

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock races need PostgreSQL"),
]


def run_together(*calls, timeout=30):
    """Run each callable in its own thread (own DB connection), released by one barrier."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def runner(i, call):
        try:
            barrier.wait(timeout=timeout)
            results[i] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test compares
            results[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a claim did not finish: deadlock?"
    return results


@pytest.fixture
def task(eager_celery):
    people = People()
    deploy_fixture("loan_approval.bpmn")
    task = start_loan(user=people.carol)
    task.people = people
    return task


def claims(task):
    return HistoryEvent.objects.filter(instance_id=task.instance_id, type="human_task.state", to_state="claimed").count()


@pytest.mark.parametrize("round_", range(5))
def test_two_concurrent_service_claims_have_one_winner(task, round_):
    p = task.people
    results = run_together(lambda: services.task_claim(task=task.pk, user=p.olivia),
                           lambda: services.task_claim(task=task.pk, user=p.oscar))
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    loser = next(value for kind, value in results if kind == "error")
    assert isinstance(loser, services.Conflict)
    winner = next(value for kind, value in results if kind == "ok")
    assert HumanTask.objects.get(pk=task.pk).assignee_id == winner.assignee_id
    assert claims(task) == 1


def test_two_concurrent_claims_through_the_page_tell_the_loser_who_won(task):
    from django.test import Client

    p = task.people
    clients = {}
    for user in (p.olivia, p.oscar):
        clients[user.username] = Client()
        clients[user.username].force_login(user)
    url = f"/inbox/tasks/{task.pk}/claim/"
    results = run_together(lambda: clients["olivia"].post(url), lambda: clients["oscar"].post(url))
    responses = dict(zip(("olivia", "oscar"), (value for _, value in results)))
    assert all(r.status_code == 302 for r in responses.values())
    winner = HumanTask.objects.get(pk=task.pk).assignee.username
    loser = "oscar" if winner == "olivia" else "olivia"
    assert responses[winner]["Location"] == f"/inbox/tasks/{task.pk}/"
    assert responses[loser]["Location"] == "/inbox/?tab=groups"
    page = clients[loser].get(responses[loser]["Location"]).content.decode()
    assert f"Too late: {winner} claimed" in page
    assert claims(task) == 1
