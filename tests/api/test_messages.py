"""POST /api/messages/ and POST /api/signals/."""
import pytest

from designer.services import version_deploy
from runtime.models import ProcessInstance
from tests.api.conftest import errors_of, fields_of

pytestmark = pytest.mark.django_db

SIGNAL_CATCH = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://x">
  <bpmn:process id="wait_for_go" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="go"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:signalEventDefinition signalRef="sig_go"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="go"/>
    <bpmn:sequenceFlow id="f2" sourceRef="go" targetRef="end"/>
  </bpmn:process>
  <bpmn:signal id="sig_go" name="go"/>
</bpmn:definitions>"""


@pytest.fixture
def waiting_quote(users, client_for, quote):
    response = client_for(users.alice).post("/api/instances/", {"process": "quote_race", "variables": {"request_id": "REQ-1"}},
                                            format="json")
    assert response.status_code == 201
    return response.json()


def test_a_message_reaches_the_wait_with_its_correlation_key(users, client_for, waiting_quote):
    client = client_for(users.bob)
    miss = client.post("/api/messages/", {"name": "quote_received", "correlation_key": "REQ-2"}, format="json")
    assert miss.status_code == 404 and "quote_received" in errors_of(miss)[0]["message"]
    hit = client.post("/api/messages/", {"name": "quote_received", "correlation_key": "REQ-1", "variables": {"price": 980}},
                      format="json")
    assert hit.status_code == 200, hit.content
    assert hit.json() == {"name": "quote_received", "started": [], "matched": [
        {"id": waiting_quote["id"], "process": "quote_race", "version": 1, "status": "running", "business_key": ""}]}
    instance = ProcessInstance.objects.get()
    assert instance.variables["price"] == 980
    assert [t.node_id for t in instance.tokens.all()] == ["Task_compare"]
    assert client.post("/api/messages/", {"name": "quote_received", "correlation_key": "REQ-1"}, format="json").status_code == 404


@pytest.mark.parametrize("body, field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "m", "correlation_key": {"a": 1}}, "correlation_key"),
    ({"name": "m", "correlation_key": "k" * 501}, "correlation_key"), ({"name": "m", "variables": 3}, "variables"),
    ({"name": "m", "key": "x"}, "key"), ({"name": ["m"]}, "name"),
])
def test_bad_messages_are_400(users, client_for, body, field):
    response = client_for(users.bob).post("/api/messages/", body, format="json")
    assert response.status_code == 400 and field in fields_of(response)


def test_messages_and_signals_need_credentials(anon):
    assert anon.post("/api/messages/", {"name": "m"}, format="json").status_code == 401
    assert anon.post("/api/signals/", {"name": "s"}, format="json").status_code == 401


def test_a_numeric_correlation_key_matches_its_string_form(users, client_for, quote):
    client = client_for(users.alice)
    client.post("/api/instances/", {"process": "quote_race", "variables": {"request_id": 42}}, format="json")
    assert client.post("/api/messages/", {"name": "quote_received", "correlation_key": "42"}, format="json").status_code == 200


def test_a_signal_reaches_every_wait_and_reports_the_count(users, client_for):
    version_deploy(xml=SIGNAL_CATCH, accept_warnings=True)
    client = client_for(users.alice)
    ids = [client.post("/api/instances/", {"process": "wait_for_go"}, format="json").json()["id"] for _ in range(3)]
    nobody = client.post("/api/signals/", {"name": "stop"}, format="json")
    assert nobody.status_code == 200 and nobody.json() == {"name": "stop", "count": 0, "matched": [], "started": []}
    sent = client.post("/api/signals/", {"name": "go", "variables": {"why": "test"}}, format="json")
    assert sent.status_code == 200 and sent.json()["count"] == 3
    assert sorted(i["id"] for i in sent.json()["matched"]) == sorted(ids)
    assert set(ProcessInstance.objects.values_list("status", flat=True)) == {"completed"}
    assert fields_of(client.post("/api/signals/", {"name": "go", "correlation_key": 1}, format="json")) == {"correlation_key"}
    assert fields_of(client.post("/api/signals/", {"variables": {}}, format="json")) == {"name"}
