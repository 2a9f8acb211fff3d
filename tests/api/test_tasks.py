"""/api/tasks/: the inbox over REST — list, detail, claim, unclaim, complete."""
import pytest

from runtime.models import HumanTask, ProcessInstance
from tests.api.conftest import errors_of, fields_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(users, start_loan):
    start_loan(users.carol)
    return HumanTask.objects.get()


def test_list_shows_the_callers_tasks_with_their_form(users, client_for, task):
    alice = client_for(users.alice).get("/api/tasks/").json()
    assert [t["id"] for t in alice["results"]] == [task.pk]
    row = alice["results"][0]
    assert row["candidate_groups"] == ["loan-officers"] and row["state"] == "open" and row["process"] == "loan_approval"
    assert [f["key"] for f in row["form"]] == ["decision", "approved_amount", "comment"]
    assert row["form"][0]["choices"] == ["approve", "reject"] and row["form"][0]["required"] is True
    assert client_for(users.carol).get("/api/tasks/").json()["count"] == 0
    assert client_for(users.root).get("/api/tasks/").json()["count"] == 1


def test_mine_and_state_filters(users, client_for, task):
    alice = client_for(users.alice)
    assert alice.get("/api/tasks/?mine=1").json()["count"] == 0
    alice.post(f"/api/tasks/{task.pk}/claim/")
    assert [t["id"] for t in alice.get("/api/tasks/?mine=1").json()["results"]] == [task.pk]
    assert alice.get("/api/tasks/?mine=true&state=claimed").json()["count"] == 1
    assert alice.get("/api/tasks/?state=open").json()["count"] == 0
    assert alice.get("/api/tasks/?state=completed").json()["count"] == 0
    assert client_for(users.bob).get("/api/tasks/?mine=1").json()["count"] == 0
    assert alice.get("/api/tasks/?process=loan_approval&instance=%d" % task.instance_id).json()["count"] == 1
    assert fields_of(alice.get("/api/tasks/?state=done")) == {"state"}
    assert fields_of(alice.get("/api/tasks/?mine=yes")) == {"mine"}
    assert fields_of(alice.get("/api/tasks/?instance=-4")) == {"instance"}


def test_detail_is_404_for_tasks_you_may_not_see(users, client_for, anon, task):
    assert client_for(users.bob).get(f"/api/tasks/{task.pk}/").json()["id"] == task.pk
    response = client_for(users.carol).get(f"/api/tasks/{task.pk}/")
    assert response.status_code == 404 and errors_of(response)[0]["code"] == "not_found"
    assert client_for(users.root).get("/api/tasks/424242/").status_code == 404
    assert anon.get(f"/api/tasks/{task.pk}/").status_code == 401
    assert anon.get("/api/tasks/").status_code == 401


def test_claim_then_a_second_claim_is_a_409(users, client_for, task):
    claimed = client_for(users.alice).post(f"/api/tasks/{task.pk}/claim/")
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "alice" and claimed.json()["state"] == "claimed"
    second = client_for(users.bob).post(f"/api/tasks/{task.pk}/claim/")
    assert second.status_code == 409 and "alice" in errors_of(second)[0]["message"]
    assert client_for(users.carol).post(f"/api/tasks/{task.pk}/claim/").status_code == 404
    assert client_for(None).post(f"/api/tasks/{task.pk}/claim/").status_code == 401


def test_only_the_assignee_may_unclaim(users, client_for, task):
    client_for(users.alice).post(f"/api/tasks/{task.pk}/claim/")
    refused = client_for(users.bob).post(f"/api/tasks/{task.pk}/unclaim/")
    assert refused.status_code == 403 and errors_of(refused)[0]["code"] == "permission_denied"
    back = client_for(users.alice).post(f"/api/tasks/{task.pk}/unclaim/")
    assert back.status_code == 200 and back.json()["state"] == "open" and back.json()["assignee"] is None
    assert client_for(users.root).post(f"/api/tasks/{task.pk}/unclaim/").status_code == 409  # open: nothing to give back


def test_complete_validates_the_form_and_moves_the_instance_on(users, client_for, task):
    alice = client_for(users.alice)
    bad = alice.post(f"/api/tasks/{task.pk}/complete/", {"variables": {"approved_amount": "lots", "extra": 1}}, format="json")
    assert bad.status_code == 400
    assert {e["field"]: e["message"] for e in errors_of(bad)} == {
        "decision": "This field is required.", "approved_amount": "Enter a number.", "extra": "Not a field of this form."}
    choice = alice.post(f"/api/tasks/{task.pk}/complete/", {"variables": {"decision": "maybe"}}, format="json")
    assert fields_of(choice) == {"decision"}
    done = alice.post(f"/api/tasks/{task.pk}/complete/", {"variables": {"decision": "approve", "approved_amount": "4500"}},
                      format="json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "completed" and done.json()["completed_by"] == "alice"
    assert done.json()["submitted"] == {"decision": "approve", "approved_amount": 4500, "comment": None}
    instance = ProcessInstance.objects.get()
    assert instance.status == "completed" and instance.variables["approved_amount"] == 4500
    # completed tasks stay visible to who completed them, and completing twice is a conflict
    assert alice.get(f"/api/tasks/{task.pk}/").json()["state"] == "completed"
    assert alice.get("/api/tasks/?state=completed").json()["count"] == 1
    again = alice.post(f"/api/tasks/{task.pk}/complete/", {"variables": {"decision": "reject"}}, format="json")
    assert again.status_code == 409


@pytest.mark.parametrize("body, field", [
    ({"variables": [1]}, "variables"), ({"variables": {"decision": 10**25}}, "variables.decision"),
    ({"vars": {}}, "vars"), ([], None), ("x", None),
])
def test_complete_rejects_malformed_bodies(users, client_for, task, body, field):
    response = client_for(users.alice).post(f"/api/tasks/{task.pk}/complete/", body, format="json")
    assert response.status_code == 400
    if field:
        assert fields_of(response) == {field}
    assert HumanTask.objects.get().state == "open"


def test_a_task_claimed_by_someone_else_is_403_on_complete(users, client_for, task):
    client_for(users.alice).post(f"/api/tasks/{task.pk}/claim/")
    response = client_for(users.bob).post(f"/api/tasks/{task.pk}/complete/", {"variables": {"decision": "approve"}},
                                          format="json")
    assert response.status_code == 403
    assert client_for(users.carol).post(f"/api/tasks/{task.pk}/complete/", {}, format="json").status_code == 404
    assert client_for(None).post(f"/api/tasks/{task.pk}/complete/", {}, format="json").status_code == 401
    assert HumanTask.objects.get().state == "claimed"
