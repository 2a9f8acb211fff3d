"""/api/instances/: start, list with filters, detail, history and lifecycle operations."""
import pytest

from runtime.models import Incident, ProcessInstance
from tests.api.conftest import errors_of, fields_of

pytestmark = pytest.mark.django_db


def test_start_answers_201_with_the_instance(users, client_for, loan):
    body = {"process": "loan_approval", "business_key": "APP-1", "variables": {"amount": 5000, "income": 3000}}
    response = client_for(users.carol).post("/api/instances/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert {k: data[k] for k in ("process", "version", "status", "business_key", "started_by")} == {
        "process": "loan_approval", "version": 1, "status": "running", "business_key": "APP-1", "started_by": "carol"}
    assert data["variables"]["risk"] == "low" and data["variables"]["initiator"] == "carol"
    assert [(t["node"], t["state"]) for t in data["tokens"]] == [("Task_review", "waiting")]
    assert data["incidents"] == []
    assert ProcessInstance.objects.get().pk == data["id"]


@pytest.mark.parametrize("body, field", [
    ({"process": "nope"}, "process"),
    ({"process": "loan_approval", "version": 7}, "version"),
    ({"process": "loan_approval", "version": 0}, "version"),
    ({"process": "loan_approval", "version": "x"}, "version"),
    ({"process": "loan_approval", "variables": [1]}, "variables"),
    ({"process": "loan_approval", "variables": "{}"}, "variables"),
    ({"process": "loan_approval", "variables": {"amount": 10**30}}, "variables.amount"),
    ({"process": "loan_approval", "variables": {"x": {"y": [1, 2, -(10**20)]}}}, "variables.x.y.2"),
    ({"process": "loan_approval", "variables": {"_secret": 1}}, "variables._secret"),
    ({"process": "loan_approval", "variables": {"bad name": 1}}, "variables.bad name"),
    ({"process": "loan_approval", "variables": {"text": "nul\x00"}}, "variables.text"),
    ({"process": "loan_approval", "busines_key": "typo"}, "busines_key"),
    ({"process": "loan_approval", "business_key": 5 * "x" * 100}, "business_key"),
    ({"process": "loan_approval", "business_key": "a\x00b"}, "business_key"),
    ({"process": 12}, None),
    ({}, "process"),
])
def test_bad_start_requests_answer_400_naming_the_key(users, client_for, loan, body, field):
    response = client_for(users.carol).post("/api/instances/", body, format="json")
    assert response.status_code == 400, response.content
    if field is not None:
        assert field in fields_of(response)
    assert not ProcessInstance.objects.exists()


@pytest.mark.parametrize("raw", ['{"process": ', "[1, 2]", '"text"', "null", '{"process": "loan_approval", "variables": NaN}',
                                 '{"process": "loan_approval", "variables": {"n": ' + "9" * 5000 + "}}",
                                 '{"process": "loan_approval", "variables": {"s": "\\ud800"}}'])
def test_malformed_json_is_a_400_never_a_500(users, client_for, loan, raw):
    response = client_for(users.carol).post("/api/instances/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    errors_of(response)


def test_a_process_that_starts_by_message_only_is_a_400_on_process(users, client_for, quote):
    from designer.services import version_deploy
    from tests.api.conftest import bpmn

    xml = bpmn("quote_race.bpmn").replace('<bpmn:startEvent id="StartEvent_need" name="Quote needed">',
                                          '<bpmn:startEvent id="StartEvent_need" name="Quote needed">'
                                          '<bpmn:messageEventDefinition messageRef="Message_quote_requested"/>', 1)
    version_deploy(xml=xml, accept_warnings=True)
    response = client_for(users.carol).post("/api/instances/", {"process": "quote_race"}, format="json")
    assert response.status_code == 400 and fields_of(response) == {"process"}


def test_start_needs_credentials(anon, loan):
    response = anon.post("/api/instances/", {"process": "loan_approval"}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert errors_of(response)[0]["code"] == "not_authenticated"
    bad = anon.post("/api/instances/", {"process": "loan_approval"}, format="json", HTTP_AUTHORIZATION="Token nope")
    assert bad.status_code == 401


def test_list_shows_what_the_ui_shows_and_filters(users, client_for, start_loan):
    mine = start_loan(users.carol)
    other = start_loan(users.root)
    ProcessInstance.objects.filter(pk=other["id"]).update(business_key="B-2")
    carol = client_for(users.carol)
    assert [i["id"] for i in carol.get("/api/instances/").json()["results"]] == [mine["id"]]
    # alice sees both through the review tasks of her group; staff see everything
    assert [i["id"] for i in client_for(users.alice).get("/api/instances/").json()["results"]] == [other["id"], mine["id"]]
    ops = client_for(users.ops)
    assert ops.get("/api/instances/").json()["count"] == 2
    assert [i["id"] for i in ops.get("/api/instances/?business_key=B-2").json()["results"]] == [other["id"]]
    assert ops.get("/api/instances/?status=completed").json()["count"] == 0
    assert ops.get("/api/instances/?process=loan_approval&status=running").json()["count"] == 2
    assert ops.get("/api/instances/?process=nope").json()["count"] == 0
    page = ops.get("/api/instances/?limit=1&offset=1").json()
    assert [i["id"] for i in page["results"]] == [mine["id"]] and page["previous"]


@pytest.mark.parametrize("query, field", [("status=bogus", "status"), ("version=x", "version"),
                                          ("has_incident=maybe", "has_incident"), ("business_key=a%00b", "business_key")])
def test_bad_filters_answer_400_naming_the_parameter(users, client_for, query, field):
    response = client_for(users.ops).get(f"/api/instances/?{query}")
    assert response.status_code == 400 and fields_of(response) == {field}


def test_list_needs_credentials(anon):
    assert anon.get("/api/instances/").status_code == 401


def test_detail_is_404_for_instances_you_may_not_see(users, client_for, start_loan):
    started = start_loan(users.root)
    carol = client_for(users.carol)
    for path in (f"/api/instances/{started['id']}/", f"/api/instances/{started['id']}/history/"):
        response = carol.get(path)
        assert response.status_code == 404 and errors_of(response)[0]["code"] == "not_found"
    for junk in ("0", "-1", "99999999999999999999999", "abc", "1e3"):
        assert carol.get(f"/api/instances/{junk}/").status_code == 404
    detail = client_for(users.alice).get(f"/api/instances/{started['id']}/")
    assert detail.status_code == 200 and detail.json()["id"] == started["id"]


def test_history_is_ordered_and_pages_after_a_seq(users, client_for, start_loan):
    started = start_loan(users.carol)
    client = client_for(users.carol)
    events = client.get(f"/api/instances/{started['id']}/history/").json()
    seqs = [e["seq"] for e in events["results"]]
    assert seqs == sorted(seqs) == list(range(1, events["count"] + 1))
    assert events["results"][0]["actor"] == "carol"
    later = client.get(f"/api/instances/{started['id']}/history/?after=3").json()["results"]
    assert [e["seq"] for e in later] == seqs[3:]
    assert fields_of(client.get(f"/api/instances/{started['id']}/history/?after=x")) == {"after"}
    assert client_for(None).get(f"/api/instances/{started['id']}/history/").status_code == 401


def test_lifecycle_operations(users, client_for, start_loan):
    started = start_loan(users.alice)
    path = f"/api/instances/{started['id']}"
    operator = client_for(users.operator)
    suspended = operator.post(f"{path}/suspend/")
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    again = operator.post(f"{path}/suspend/")
    assert again.status_code == 409 and "suspended" in errors_of(again)[0]["message"]
    assert operator.post(f"{path}/resume/").json()["status"] == "running"
    assert operator.post(f"{path}/resume/").status_code == 409
    assert operator.post(f"{path}/retry/").status_code == 409  # no open incident
    cancelled = operator.post(f"{path}/cancel/", {"reason": "duplicate"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["tokens"] == []
    assert operator.post(f"{path}/cancel/").status_code == 409


def test_lifecycle_operations_are_for_operators(users, client_for, anon, start_loan):
    started = start_loan(users.alice)
    path = f"/api/instances/{started['id']}"
    for op in ("cancel", "suspend", "resume", "retry"):
        # the starter sees the instance but may not operate it; staff without the permission neither
        assert client_for(users.alice).post(f"{path}/{op}/").status_code == 403
        assert client_for(users.ops).post(f"{path}/{op}/").status_code == 403
        assert client_for(users.carol).post(f"{path}/{op}/").status_code == 404
        assert anon.post(f"{path}/{op}/").status_code == 401
        assert client_for(users.root).post(f"/api/instances/999999/{op}/").status_code == 404
    assert ProcessInstance.objects.get().status == "running"
    bad = client_for(users.root).post(f"{path}/cancel/", {"reason": 5, "why": 1}, format="json")
    assert bad.status_code == 400 and fields_of(bad) == {"why"}


def test_retry_reruns_an_open_incident(users, client_for, start_loan):
    started = start_loan(users.alice)
    instance = ProcessInstance.objects.get(pk=started["id"])
    Incident.objects.create(instance=instance, node_id="Task_review", message="broken")
    ProcessInstance.objects.filter(pk=instance.pk).update(has_incident=True, incident_count=1)
    detail = client_for(users.root).get(f"/api/instances/{instance.pk}/").json()
    assert [i["message"] for i in detail["incidents"]] == ["broken"] and detail["has_incident"]
    retried = client_for(users.root).post(f"/api/instances/{instance.pk}/retry/")
    assert retried.status_code == 200
    assert [i["state"] for i in retried.json()["incidents"]] == ["resolved"]
    assert retried.json()["has_incident"] is False
