"""Who may see and operate instances: staff see all, a user sees what they started or hold
a task in, strangers get 404 (ids do not leak), only operators change instances."""
import pytest
from django.contrib.auth.models import Group, Permission, User

from runtime.models import InstanceStatus

from tests.runtime.instance_pages import bare_instance, bare_task, bare_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    class W:
        pass

    w = W()
    w.staff = User.objects.create_user("sam", is_staff=True)
    w.starter = User.objects.create_user("sue")
    w.officer = User.objects.create_user("olga")
    w.stranger = User.objects.create_user("stan")
    w.root = User.objects.create_superuser("root", email="", password=None)
    w.officers = Group.objects.create(name="officers")
    w.officer.groups.add(w.officers)
    version = bare_version()
    w.mine = bare_instance(version, started_by=w.starter, business_key="mine")
    w.tasked = bare_instance(version, business_key="tasked")
    bare_task(w.tasked, group=w.officers)
    w.other = bare_instance(version, business_key="other")
    return w


def _detail(client, user, instance, suffix=""):
    client.force_login(user)
    return client.get(f"/instances/{instance.pk}/{suffix}")


def test_anonymous_is_sent_to_login(client, world):
    for url in ("/instances/", f"/instances/{world.mine.pk}/", f"/instances/{world.mine.pk}/fragments/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.mark.parametrize("who, instance, status", [
    ("staff", "mine", 200), ("staff", "other", 200), ("root", "other", 200),
    ("starter", "mine", 200), ("starter", "tasked", 404), ("starter", "other", 404),
    ("officer", "tasked", 200), ("officer", "mine", 404),
    ("stranger", "mine", 404), ("stranger", "tasked", 404), ("stranger", "other", 404),
])
def test_detail_and_its_fragments_follow_one_rule(client, world, who, instance, status):
    for suffix in ("", "fragments/", "history/"):
        assert _detail(client, getattr(world, who), getattr(world, instance), suffix).status_code == status, suffix


def test_a_completed_task_still_lets_its_completer_look(client, world):
    done = bare_instance(world.other.version, business_key="done")
    bare_task(done, state="completed").__class__.objects.filter(instance=done).update(completed_by=world.stranger)
    assert _detail(client, world.stranger, done).status_code == 200


def test_missing_instance_is_404(client, world):
    assert _detail(client, world.root, type("X", (), {"pk": 999999})()).status_code == 404


def test_list_shows_staff_everything_and_others_their_own(client, world):
    def keys(user):
        client.force_login(user)
        return {i.business_key for i in client.get("/instances/").context["page"].rows}

    assert keys(world.staff) == {"mine", "tasked", "other"}
    assert keys(world.starter) == {"mine"}
    assert keys(world.officer) == {"tasked"}
    assert keys(world.stranger) == set()


def test_only_operators_see_action_buttons(client, world):
    body = _detail(client, world.staff, world.mine).content.decode()
    assert "Cancel instance" not in body  # staff may look; operating needs the permission
    body = _detail(client, world.root, world.mine).content.decode()
    assert "Cancel instance" in body and "Suspend" in body


def test_non_operator_post_is_refused_and_changes_nothing(client, world):
    client.force_login(world.starter)
    response = client.post(f"/instances/{world.mine.pk}/cancel/")
    assert response.status_code == 403
    world.mine.refresh_from_db()
    assert world.mine.status == InstanceStatus.RUNNING
    client.force_login(world.stranger)
    assert client.post(f"/instances/{world.mine.pk}/cancel/").status_code == 404


def test_holder_of_the_change_permission_may_operate(client, world):
    world.staff.user_permissions.add(Permission.objects.get(codename="change_processinstance"))
    staff = User.objects.get(pk=world.staff.pk)
    assert "Cancel instance" in _detail(client, staff, world.mine).content.decode()


def test_unknown_action_is_404_and_get_is_not_allowed(client, world):
    client.force_login(world.root)
    assert client.post(f"/instances/{world.mine.pk}/explode/").status_code == 404
    assert client.get(f"/instances/{world.mine.pk}/cancel/").status_code == 405
