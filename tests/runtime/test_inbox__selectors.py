"""The inbox reads: what each tab holds, keyset pages that never skip or repeat a row,
filters, due-date emphasis, the bounded badge count, and the next task after completing."""
import datetime as dt
import itertools

import pytest

from runtime import inbox
from runtime.models import HumanTask
from tests.runtime.inbox_setup import People, deploy_fixture, make_task, start_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return People()


@pytest.fixture
def case(people, wakeups):
    deploy_fixture("loan_approval.bpmn")
    with wakeups():
        return start_loan(user=people.carol, business_key="L-100").instance


def ids(page):
    return [t.pk for t in page.tasks]


def test_tabs_split_mine_groups_and_done(people, case):
    review = HumanTask.objects.get(instance=case)
    other_group = make_task(case, name="Sales call", groups=[people.sales])
    direct = make_task(case, name="Named", users=[people.olivia])
    anyone = make_task(case, name="Anyone", open_to_all=True)
    mine = make_task(case, name="Mine", groups=[people.officers], assignee=people.olivia)
    done = make_task(case, name="Done", groups=[people.officers], assignee=people.olivia, state="completed")
    HumanTask.objects.filter(pk=done.pk).update(completed_by=people.olivia, completed_at=done.created_at)

    def tab(user, name):
        return set(ids(inbox.inbox_page(user=user, query=inbox.InboxQuery(tab=name))))

    assert tab(people.olivia, "groups") == {review.pk, direct.pk, anyone.pk}
    assert tab(people.olivia, "mine") == {mine.pk}
    assert tab(people.olivia, "done") == {done.pk}
    assert tab(people.oscar, "groups") == {review.pk, other_group.pk, anyone.pk}
    assert tab(people.carol, "groups") == {anyone.pk}
    # "My groups" is membership, also for superusers (they can still open any task)
    assert tab(people.root, "groups") == {anyone.pk}


@pytest.mark.parametrize("sort", ["priority", "due", "created"])
def test_keyset_pages_cover_every_task_once_in_sort_order(people, case, sort):
    HumanTask.objects.all().delete()
    priorities = itertools.cycle([90, 50, 50, 10])
    dues = itertools.cycle([None, dt.timedelta(hours=-2), dt.timedelta(days=3), None, dt.timedelta(hours=5)])
    for i in range(23):  # ties on every key, and due dates missing, so the id tiebreak matters
        make_task(case, name=f"T{i}", groups=[people.officers], priority=next(priorities), due_in=next(dues),
                  created_ago=dt.timedelta(minutes=i % 4))
    seen, after = [], ""
    for _ in range(10):
        page = inbox.inbox_page(user=people.olivia, query=inbox.InboxQuery(tab="groups", sort=sort, after=after),
                                limit=5)
        seen += page.tasks
        after = page.next_cursor
        if not after:
            break
    assert len(seen) == 23 and len({t.pk for t in seen}) == 23
    key = {
        "priority": lambda t: (-t.priority, t.created_at, t.pk),
        "due": lambda t: (t.due_at is None, t.due_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc), t.pk),
        "created": lambda t: (-t.created_at.timestamp(), -t.pk),
    }[sort]
    assert [t.pk for t in seen] == [t.pk for t in sorted(seen, key=key)]


def test_a_broken_cursor_means_the_first_page(people, case):
    first = inbox.inbox_page(user=people.olivia, query=inbox.InboxQuery())
    for junk in ("x", "W10", "WyJhIiwxXQ", "!!!"):
        page = inbox.inbox_page(user=people.olivia, query=inbox.InboxQuery(after=junk))
        assert ids(page) == ids(first) and page.is_first


def test_filter_by_process_and_search(people, case, wakeups):
    deploy_fixture("parallel_review.bpmn")
    loan = HumanTask.objects.get(instance=case)
    people.olivia.groups.add(people.sales)
    from runtime import services
    with wakeups():
        services.instance_start(process_key="parallel_review", business_key="C-7", user=people.carol)

    def page(**kw):
        return ids(inbox.inbox_page(user=people.olivia, query=inbox.InboxQuery(tab="groups", **kw)))

    assert page(process="loan_approval") == [loan.pk]
    assert len(page(process="parallel_review")) == 1  # only the sales lane is hers
    assert page(search="l-100") == [loan.pk]           # business key, case-insensitive
    assert page(search="review app") == [loan.pk]      # task name
    assert page(search=f"#{case.pk}") == [loan.pk]      # instance id
    assert page(search="nothing like this") == []


def test_overdue_and_due_soon(people, case):
    now = inbox.timezone.now()
    late = make_task(case, groups=[people.officers], due_in=dt.timedelta(minutes=-1))
    soon = make_task(case, groups=[people.officers], due_in=dt.timedelta(hours=3))
    later = make_task(case, groups=[people.officers], due_in=dt.timedelta(days=3))
    undated = make_task(case, groups=[people.officers])
    assert [inbox.due_status(t, now) for t in (late, soon, later, undated)] == ["overdue", "soon", "", ""]
    late.state = "completed"
    assert inbox.due_status(late, now) == ""  # a finished task is no longer late


def test_badge_counts_mine_and_pickable_tasks_up_to_a_cap(people, case, settings):
    assert inbox.badge_count(user=people.olivia) == 1
    assert inbox.badge_count(user=people.carol) == 0
    make_task(case, groups=[people.officers], assignee=people.olivia)
    assert inbox.badge_count(user=people.olivia) == 2
    settings.FLOWYARD = {**settings.FLOWYARD, "INBOX_BADGE_CAP": 3}
    for _ in range(5):
        make_task(case, groups=[people.officers])
    assert inbox.badge_label(inbox.badge_count(user=people.olivia)) == "3+"
    assert inbox.badge_label(0) == ""


def test_next_task_prefers_mine_then_pickable_in_the_same_instance(people, case):
    current = HumanTask.objects.get(instance=case)
    assert inbox.next_task_for_user(user=people.olivia, instance_id=case.pk, exclude=current.pk) is None
    pick = make_task(case, name="pick", groups=[people.officers], priority=90)
    assert inbox.next_task_for_user(user=people.olivia, instance_id=case.pk, exclude=current.pk) == pick
    mine = make_task(case, name="mine", assignee=people.olivia, priority=10)
    assert inbox.next_task_for_user(user=people.olivia, instance_id=case.pk, exclude=current.pk) == mine
    make_task(case, name="someone else's", assignee=people.oscar, priority=100)
    assert inbox.next_task_for_user(user=people.carol, instance_id=case.pk, exclude=current.pk) is None


def test_relevant_variables_leave_out_form_keys_and_private_names(people, case):
    task = HumanTask.objects.get(instance=case)
    case.variables = {**case.variables, "_secret": 1, "decision": "old"}
    case.save()
    task.refresh_from_db()
    names = [k for k, _ in inbox.relevant_variables(task)]
    assert "amount" in names and "risk" in names
    assert "_secret" not in names and "decision" not in names


def test_form_initial_shows_defaults_then_what_was_submitted(people, case):
    task = HumanTask.objects.get(instance=case)
    fields = {f["key"]: f for f in inbox.form_initial(task)}
    assert fields["approved_amount"]["text"] == "5000" and fields["decision"]["text"] == ""
    fields = {f["key"]: f for f in inbox.form_initial(task, {"approved_amount": "12"}, {"decision": ["x"]})}
    assert fields["approved_amount"]["text"] == "12" and fields["decision"]["errors"] == ["x"]


def test_reassign_choices_are_the_candidates(people, case):
    task = HumanTask.objects.get(instance=case)
    assert [u.username for u in inbox.reassign_choices(task=task)] == ["olivia", "oscar"]
