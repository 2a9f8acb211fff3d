"""The inbox pages over HTTP: who may claim, unclaim, complete and reassign (everything
else is a 403 that writes no history), the generated form validated per field type with
errors next to the fields, and where completing a task leads."""
import re

import pytest

from designer.services import version_deploy
from runtime import services
from runtime.models import HistoryEvent, HumanTask
from tests.runtime.inbox_setup import People, deploy_fixture, make_task, start_loan

pytestmark = pytest.mark.django_db

FORM_TYPES_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:flowyard="http://flowyard.dev/schema/bpmn/1.0" id="D" targetNamespace="http://flowyard.dev/test">
  <bpmn:process id="form_types" name="Form types" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="fill" name="Fill everything" flowyard:candidateGroups="loan-officers">
      <bpmn:extensionElements>
        <flowyard:formField key="title" label="Title" type="string" required="true" help="One line"/>
        <flowyard:formField key="amount" label="Amount" type="number" required="true"/>
        <flowyard:formField key="urgent" label="Urgent" type="boolean" required="true"/>
        <flowyard:formField key="deadline" label="Deadline" type="date" required="true"/>
        <flowyard:formField key="colour" label="Colour" type="enum" required="true" choices="red,green"/>
        <flowyard:formField key="note" label="Note" type="string" default="=title_hint"/>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fill"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fill" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def people(db):
    return People()


@pytest.fixture
def task(people, wakeups):
    deploy_fixture("loan_approval.bpmn")
    with wakeups():
        return start_loan(user=people.carol, business_key="L-1")


def client_for(client, user):
    client.force_login(user)
    return client


def post(client, task, action, data=None):
    return client.post(f"/inbox/tasks/{task.pk}/{action}/", data or {})


def history_count(task):
    return HistoryEvent.objects.filter(instance_id=task.instance_id).count()


def errors_of(response) -> dict[str, list[str]]:
    """field key -> error texts, read from the markup next to each field."""
    html = response.content.decode()
    out = {}
    for key, block in re.findall(r'data-field="([^"]+)">(.*?)\n</div>', html, re.S):
        found = re.findall(r'class="field-error"[^>]*>([^<]+)<', block)
        if found:
            out[key] = found
    return out


# -- pages ---------------------------------------------------------------------------------------

def test_inbox_lists_group_tasks_with_business_key_and_badge(client, people, task):
    response = client_for(client, people.olivia).get("/inbox/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in html and "L-1" in html and "Loan approval" in html
    assert re.search(r'id="inbox-count"[^>]*>1<', html)
    assert client.get("/inbox/count/").json() == {"count": 1, "label": "1"}


def test_inbox_needs_login(client):
    assert client.get("/inbox/").status_code == 302


def test_rows_partial_and_htmx_swap_return_only_the_list(client, people, task):
    client_for(client, people.olivia)
    for response in (client.get("/inbox/rows/?tab=groups"),
                     client.get("/inbox/?tab=groups", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inbox-list")):
        html = response.content.decode()
        assert f'id="task-{task.pk}"' in html and "<html" not in html


def test_task_page_shows_case_form_diagram_and_variables(client, people, task):
    html = client_for(client, people.olivia).get(f"/inbox/tasks/{task.pk}/").content.decode()
    assert "Loan approval" in html and "L-1" in html
    assert 'id="task-diagram-xml"' in html and 'data-node="Task_review"' in html
    assert 'name="decision"' in html and 'value="5000"' in html  # the evaluated default
    assert "Shown to the applicant" in html                       # help text
    assert "<code>risk</code>" in html                            # a case variable
    assert 'id="claim"' in html


def test_task_page_is_404_for_someone_who_may_not_see_it(client, people, task):
    assert client_for(client, people.carol).get(f"/inbox/tasks/{task.pk}/").status_code == 404
    assert client.get("/inbox/tasks/999999/").status_code == 404


# -- permission rules: each refusal is a 403 and writes no history --------------------------------

def assert_refused(response, task, before):
    assert response.status_code == 403
    assert "Nothing was changed" in response.content.decode()
    assert history_count(task) == before


def test_a_non_candidate_may_not_claim(client, people, task):
    before = history_count(task)
    assert_refused(post(client_for(client, people.carol), task, "claim"), task, before)
    assert HumanTask.objects.get(pk=task.pk).state == "open"


def test_a_candidate_claims_and_the_task_moves_to_mine(client, people, task):
    response = post(client_for(client, people.olivia), task, "claim")
    assert response.status_code == 302 and response["Location"] == f"/inbox/tasks/{task.pk}/"
    task.refresh_from_db()
    assert task.state == "claimed" and task.assignee == people.olivia
    assert f'id="task-{task.pk}"' in client.get("/inbox/?tab=mine").content.decode()
    assert f'id="task-{task.pk}"' not in client.get("/inbox/?tab=groups").content.decode()


def test_claiming_a_claimed_task_says_who_won(client, people, task):
    services.task_claim(task=task, user=people.oscar)
    before = history_count(task)
    response = post(client_for(client, people.olivia), task, "claim")
    assert response.status_code == 302 and response["Location"] == "/inbox/?tab=groups"
    page = client.get(response["Location"]).content.decode()
    assert "Too late: oscar claimed" in page
    assert history_count(task) == before


def test_only_the_assignee_may_unclaim(client, people, task):
    services.task_claim(task=task, user=people.oscar)
    before = history_count(task)
    assert_refused(post(client_for(client, people.olivia), task, "unclaim"), task, before)
    assert_refused(post(client_for(client, people.carol), task, "unclaim"), task, before)
    response = post(client_for(client, people.oscar), task, "unclaim")
    assert response.status_code == 302
    assert HumanTask.objects.get(pk=task.pk).state == "open"


def test_a_claimed_task_is_completed_only_by_its_assignee(client, people, task):
    services.task_claim(task=task, user=people.oscar)
    before = history_count(task)
    for outsider in (people.olivia, people.carol):
        assert_refused(post(client_for(client, outsider), task, "complete", {"decision": "approve"}), task, before)
    assert HumanTask.objects.get(pk=task.pk).state == "claimed"


def test_a_non_candidate_may_not_complete_an_open_task(client, people, task):
    before = history_count(task)
    assert_refused(post(client_for(client, people.carol), task, "complete", {"decision": "approve"}), task, before)


def test_a_candidate_may_complete_an_open_task_directly(client, people, task, wakeups):
    with wakeups():
        response = post(client_for(client, people.olivia), task, "complete", {"decision": "approve"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    task.refresh_from_db()
    assert task.state == "completed" and task.completed_by == people.olivia
    assert task.instance.status == "completed" and task.instance.variables["decision"] == "approve"
    assert f'id="task-{task.pk}"' in client.get("/inbox/?tab=done").content.decode()


def test_completing_twice_changes_nothing(client, people, task, wakeups):
    with wakeups():
        post(client_for(client, people.olivia), task, "complete", {"decision": "approve"})
    response = post(client, task, "complete", {"decision": "reject"})
    assert response.status_code == 302
    assert "already completed" in client.get(response["Location"]).content.decode()
    assert HumanTask.objects.get(pk=task.pk).submitted["decision"] == "approve"


def test_unknown_action_is_404_and_get_is_refused(client, people, task):
    client_for(client, people.olivia)
    assert post(client, task, "explode").status_code == 404
    assert client.get(f"/inbox/tasks/{task.pk}/claim/").status_code == 405


# -- reassign ------------------------------------------------------------------------------------

def test_the_assignee_may_hand_the_task_to_a_fellow_member(client, people, task):
    services.task_claim(task=task, user=people.olivia)
    response = post(client_for(client, people.olivia), task, "reassign", {"to_user": people.oscar.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == people.oscar and task.state == "claimed"
    event = HistoryEvent.objects.filter(instance_id=task.instance_id).order_by("-seq").first()
    assert event.type == "human_task.reassigned" and event.actor == "olivia" and event.data["assignee"] == "oscar"


def test_a_candidate_may_assign_an_open_task_to_a_fellow_member(client, people, task):
    post(client_for(client, people.olivia), task, "reassign", {"to_user": people.oscar.pk})
    task.refresh_from_db()
    assert task.assignee == people.oscar and task.state == "claimed"


def test_staff_may_reassign_any_task(client, people, task):
    services.task_claim(task=task, user=people.oscar)
    post(client_for(client, people.sam), task, "reassign", {"to_user": people.olivia.pk})
    assert HumanTask.objects.get(pk=task.pk).assignee == people.olivia


def test_others_may_not_reassign(client, people, task):
    services.task_claim(task=task, user=people.oscar)
    before = history_count(task)
    assert_refused(post(client_for(client, people.olivia), task, "reassign", {"to_user": people.olivia.pk}), task, before)
    assert_refused(post(client_for(client, people.carol), task, "reassign", {"to_user": people.carol.pk}), task, before)
    assert HumanTask.objects.get(pk=task.pk).assignee == people.oscar


def test_a_task_goes_only_to_a_candidate(client, people, task):
    before = history_count(task)
    for target in (people.carol, people.root):  # not in the group; superusers are not parked on
        response = post(client_for(client, people.sam), task, "reassign", {"to_user": target.pk})
        assert response.status_code == 302
        assert "not a candidate" in client.get(response["Location"]).content.decode()
    response = post(client, task, "reassign", {"to_user": "nobody"})
    assert "choose an active user" in client.get(response["Location"]).content.decode()
    assert history_count(task) == before and HumanTask.objects.get(pk=task.pk).assignee is None


# -- the generated form --------------------------------------------------------------------------

@pytest.fixture
def form_task(people, wakeups):
    version_deploy(xml=FORM_TYPES_BPMN, accept_warnings=True)
    with wakeups():
        instance = services.instance_start(process_key="form_types", variables={"title_hint": "hi"})
    task = HumanTask.objects.get(instance=instance)
    services.task_claim(task=task, user=people.olivia)
    return task


VALID = {"title": "Roof", "amount": "12.5", "urgent": "true", "deadline": "2030-01-31", "colour": "green", "note": ""}


@pytest.mark.parametrize("key, bad, message", [
    ("title", "", "This field is required."),
    ("amount", "twelve", "Enter a number."),
    ("amount", "", "This field is required."),
    ("urgent", "maybe", "Choose yes or no."),
    ("urgent", None, "This field is required."),
    ("deadline", "31/01/2030", "Enter a date as YYYY-MM-DD."),
    ("colour", "blue", "Select one of: red, green."),
    ("colour", "", "This field is required."),
])
def test_each_field_type_is_validated_on_the_server_with_the_error_next_to_it(client, people, form_task, key, bad, message):
    data = {k: v for k, v in VALID.items() if k != key}
    if bad is not None:
        data[key] = bad
    before = history_count(form_task)
    response = post(client_for(client, people.olivia), form_task, "complete", data)
    assert response.status_code == 400
    assert errors_of(response) == {key: [message]}
    html = response.content.decode()
    if bad and key not in ("urgent", "colour"):
        assert f'value="{bad}"' in html  # what the user typed is kept
    assert history_count(form_task) == before
    assert HumanTask.objects.get(pk=form_task.pk).state == "claimed"


def test_valid_values_are_converted_per_type(client, people, form_task, wakeups):
    with wakeups():
        response = post(client_for(client, people.olivia), form_task, "complete", VALID)
    assert response.status_code == 302
    form_task.refresh_from_db()
    assert form_task.submitted == {"title": "Roof", "amount": 12.5, "urgent": True, "deadline": "2030-01-31",
                                   "colour": "green", "note": "hi"}  # blank optional -> its default
    assert form_task.instance.status == "completed"


def test_the_form_renders_each_type_with_its_widget(client, people, form_task):
    html = client_for(client, people.olivia).get(f"/inbox/tasks/{form_task.pk}/").content.decode()
    assert 'type="text" name="title"' in html and 'inputmode="decimal" name="amount"' in html
    assert 'type="radio" name="urgent" value="true"' in html and 'type="date" name="deadline"' in html
    assert '<option value="red"' in html and 'value="hi"' in html and "One line" in html
    assert "novalidate" in html  # the server is the one judge of the form


# -- where completing leads ----------------------------------------------------------------------

def test_completing_leads_to_my_next_task_in_the_same_case_then_to_the_inbox(client, people, wakeups):
    deploy_fixture("parallel_review.bpmn")
    from django.contrib.auth.models import Group
    for name in ("finance", "risk"):
        people.olivia.groups.add(Group.objects.get_or_create(name=name)[0])
    people.olivia.groups.add(people.sales)
    with wakeups():
        instance = services.instance_start(process_key="parallel_review", business_key="C-1", user=people.carol)
    tasks = list(HumanTask.objects.filter(instance=instance).order_by("id"))
    assert len(tasks) == 3
    client_for(client, people.olivia)
    seen = []
    location = f"/inbox/tasks/{tasks[0].pk}/"
    for _ in range(3):
        pk = int(location.rstrip("/").split("/")[-1])
        task = HumanTask.objects.get(pk=pk)
        seen.append(pk)
        key = task.form[0]["key"]
        with wakeups():
            response = post(client, task, "complete", {key: "true"})
        assert response.status_code == 302
        location = response["Location"]
        if location == "/inbox/":
            break
    assert sorted(seen) == [t.pk for t in tasks] and location == "/inbox/"
    instance.refresh_from_db()
    assert instance.status == "completed"


def test_summary_tile_counts_the_inbox(rf, people, task):
    from runtime.summary import home_tiles

    request = rf.get("/")
    request.user = people.olivia
    tile = home_tiles(request)[0]
    assert tile["title"] == "Inbox" and tile["url"] == "/inbox/" and tile["text"].startswith("1 task ")


def test_context_processor_is_lazy_and_labels_the_badge(rf, people, task, django_assert_num_queries):
    from runtime.context_processors import inbox

    request = rf.get("/")
    request.user = people.olivia
    with django_assert_num_queries(0):
        value = inbox(request)["inbox_count"]
    assert str(value) == "1"
    from django.contrib.auth.models import AnonymousUser
    request.user = AnonymousUser()
    assert inbox(request) == {}
