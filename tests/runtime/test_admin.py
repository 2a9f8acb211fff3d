"""The admin: instances with read-only history/tokens/tasks inline, filters, search by
business key, and operator actions going through the services."""
import pytest
from django.urls import reverse

from runtime import services
from runtime.models import HistoryEvent, HumanTask, Incident, ProcessInstance
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, users):
    client.force_login(users.root)
    return client


@pytest.fixture
def instances(deploy, wakeups):
    deploy(graphs.loan())
    with wakeups():
        return [services.instance_start(process_key="loan", variables={"amount": i}, business_key=f"BK-{i}")
                for i in (1, 2, 3)]


def test_changelist_filters_and_searches_by_business_key(admin_client, instances):
    url = reverse("admin:runtime_processinstance_changelist")
    page = admin_client.get(url, {"q": "BK-2"})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    assert admin_client.get(url, {"status__exact": "running"}).context["cl"].result_count == 3
    assert admin_client.get(url, {"status__exact": "completed"}).context["cl"].result_count == 0


def test_change_page_shows_history_tokens_and_tasks_read_only(admin_client, instances):
    instance = instances[0]
    page = admin_client.get(reverse("admin:runtime_processinstance_change", args=[instance.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "human_task.state" in body and "decide" in body
    formsets = {fs.formset.prefix: fs for fs in page.context["inline_admin_formsets"]}
    history = formsets["history"].formset.queryset
    assert list(history.values_list("seq", flat=True)) == list(range(1, instance.history_seq + 1))
    for fs in formsets.values():
        assert not fs.has_add_permission and not fs.has_change_permission and not fs.has_delete_permission


def test_actions_go_through_the_services_and_write_history(admin_client, instances):
    url = reverse("admin:runtime_processinstance_changelist")
    ids = [str(i.pk) for i in instances[:2]]
    admin_client.post(url, {"action": "suspend", "_selected_action": ids})
    assert set(ProcessInstance.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"suspended"}
    admin_client.post(url, {"action": "resume", "_selected_action": ids})
    admin_client.post(url, {"action": "cancel", "_selected_action": ids[:1]})
    assert ProcessInstance.objects.get(pk=ids[0]).status == "cancelled"
    assert ProcessInstance.objects.get(pk=ids[1]).status == "running"
    assert HistoryEvent.objects.filter(instance_id=ids[0], type="instance.status", actor="root").count() >= 3
    page = admin_client.post(url, {"action": "retry_incidents", "_selected_action": ids[1:]}, follow=True)
    assert "has no open incident" in page.content.decode()


def test_other_runtime_pages_render(admin_client, instances):
    task = HumanTask.objects.first()
    assert admin_client.get(reverse("admin:runtime_humantask_change", args=[task.pk])).status_code == 200
    for name in ("humantask", "incident", "timerjob", "servicecall", "messagesubscription", "historyevent"):
        assert admin_client.get(reverse(f"admin:runtime_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:designer_processversion_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:designer_processdefinition_changelist")).status_code == 200
    assert not Incident.objects.exists()
