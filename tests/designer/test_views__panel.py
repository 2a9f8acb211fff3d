"""The properties panel endpoint: the sections each element type shows, validation that
names the field, and the patch the browser writes into the diagram."""
from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest
from django.contrib.auth.models import User

from designer.models import ProcessDefinition

DATA = Path(__file__).resolve().parents[1] / "data"
pytestmark = pytest.mark.django_db


@pytest.fixture
def designer(client):
    client.force_login(User.objects.create(username="dana"))
    ProcessDefinition.objects.create(key="panel_test", name="Panel test")
    return client


def _xml(name: str) -> str:
    return (DATA / name).read_text()


class PanelPage:
    def __init__(self, response):
        assert response.status_code == 200, response.content[:500]
        self.html = response.content.decode()
        self.doc = lxml.html.fromstring(self.html)
        self.form = self.doc.get_element_by_id("panel-form")

    @property
    def sections(self) -> list[str]:
        return [legend.text_content().strip() for legend in self.form.iter("legend")]

    def values(self) -> dict[str, str]:
        out = {}
        for el in self.form.iter("input", "select", "textarea"):
            name = el.get("name")
            if not name or el.get("disabled") is not None:
                continue
            if el.tag == "input" and el.get("type") == "checkbox":
                if el.get("checked") is not None:
                    out[name] = "on"
            elif el.tag == "select":
                selected = [o.get("value") for o in el.iter("option") if o.get("selected") is not None]
                out[name] = selected[0] if selected else ""
            elif el.tag == "textarea":
                out[name] = el.text_content().lstrip("\n")
            else:
                out[name] = el.get("value", "")
        return out

    def errors(self) -> dict[str, list[str]]:
        return {field.get("data-field"): [e.text_content().strip() for e in field.find_class("field-error")]
                for field in self.form.find_class("has-error")}

    @property
    def patch(self) -> dict | None:
        raw = self.form.get("data-patch")
        return json.loads(raw) if raw else None


def open_panel(client, xml: str, element_id: str) -> PanelPage:
    return PanelPage(client.post("/designer/panel_test/panel/", {"xml": xml, "element_id": element_id}))


def apply(client, xml: str, element_id: str, **changes) -> PanelPage:
    data = open_panel(client, xml, element_id).values()
    data.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        data.pop(key, None)
    data.update(xml=xml)
    return PanelPage(client.post("/designer/panel_test/panel/", data))


@pytest.mark.parametrize(("fixture", "element", "sections"), [
    ("loan_approval.bpmn", "loan_approval", ["General"]),
    ("loan_approval.bpmn", "StartEvent_applied", ["General"]),
    ("loan_approval.bpmn", "Task_review", ["General", "Assignment", "Multi-instance", "Inputs and outputs"]),
    ("loan_approval.bpmn", "Task_assess", ["General", "Script", "Multi-instance", "Inputs and outputs"]),
    ("loan_approval.bpmn", "Gateway_decision", ["General", "Gateway"]),
    ("loan_approval.bpmn", "Flow_approved", ["General", "Condition"]),
    ("order_fulfilment.bpmn", "Task_reserve_stock", ["General", "Connector", "Multi-instance", "Inputs and outputs"]),
    ("order_fulfilment.bpmn", "Event_payment_declined", ["General", "Error"]),
    ("order_fulfilment.bpmn", "Task_confirm", ["General", "Message", "Connector", "Multi-instance", "Inputs and outputs"]),
    ("quote_race.bpmn", "Event_quote_received", ["General", "Message"]),
    ("quote_race.bpmn", "Event_timeout", ["General", "Timer"]),
    ("quote_race.bpmn", "Event_notify_timeout", ["General", "Signal"]),
    ("shipment_subprocess.bpmn", "Activity_invoice", ["General", "Called process", "Multi-instance", "Inputs and outputs"]),
])
def test_each_element_type_shows_its_sections(designer, fixture, element, sections):
    assert open_panel(designer, _xml(fixture), element).sections == sections


def test_user_task_panel_shows_current_values_and_form_fields(designer):
    page = open_panel(designer, _xml("loan_approval.bpmn"), "Task_review")
    values = page.values()
    assert values["candidate_groups"] == "loan-officers"
    assert values["due_date"] == "P2D"
    assert values["priority"] == "=80 if risk == 'high' else 50"
    assert values["ff-count"] == "3"
    assert (values["ff-0-key"], values["ff-0-type"], values["ff-0-choices"]) == ("decision", "enum", "approve,reject")
    assert values["ff-0-required"] == "on"
    assert values["ff-1-default"] == "=amount"


def test_flow_panel_shows_condition_and_default_state(designer):
    xml = _xml("loan_approval.bpmn")
    assert open_panel(designer, xml, "Flow_approved").values()["condition"].startswith('decision == "approve"')
    assert open_panel(designer, xml, "Flow_rejected").values().get("is_default") == "on"
    gateway = open_panel(designer, xml, "Gateway_decision")
    assert gateway.values()["default_flow"] == "Flow_rejected"


def test_timer_message_and_connector_values_are_read(designer):
    race = _xml("quote_race.bpmn")
    timer = open_panel(designer, race, "Event_timeout").values()
    assert timer["timer_type"] == "timeDuration" and timer["timer_value"] == "PT24H"
    message = open_panel(designer, race, "Event_quote_received").values()
    assert message["correlation_key"] == "=request_id" and message["message_name"]
    service = open_panel(designer, _xml("order_fulfilment.bpmn"), "Task_reserve_stock").values()
    assert service["connector"] == "http" and service["http_method"] == "POST"
    assert service["http_url"] == "=inventory_url + '/reservations'"


def test_valid_edit_answers_with_a_patch_of_the_validated_values(designer):
    page = apply(designer, _xml("loan_approval.bpmn"), "Task_review", candidate_groups="clerks", priority="70")
    assert page.errors() == {}
    assert page.patch["element"] == "Task_review"
    assert page.patch["props"]["flowyard:candidateGroups"] == "clerks"
    assert page.patch["props"]["flowyard:priority"] == "70"
    assert [f["key"] for f in page.patch["extensions"]["formField"]] == ["decision", "approved_amount", "comment"]
    assert page.patch["extensions"]["formField"][0] == {
        "key": "decision", "label": "Decision", "type": "enum", "required": "true", "choices": "approve,reject"}


@pytest.mark.parametrize(("element", "field", "value", "message"), [
    ("Task_review", "priority", "200", "0 to 100"),
    ("Task_review", "due_date", "tomorrow", "ISO 8601"),
    ("Task_review", "assignee", "=initiator +", "syntax error"),
    ("Task_review", "ff-0-key", "has space", "not a variable name"),
    ("Task_review", "ff-0-choices", "", "needs choices"),
    ("Flow_approved", "condition", "amount >", "syntax error"),
    ("Flow_approved", "condition", "order.total > 1", "attribute access is not allowed"),
    ("Flow_approved", "condition", "open('x')", "unknown function"),
    ("Task_assess", "script", "ratio = amount /\nnot an assignment", "line 1"),
    ("StartEvent_applied", "id", "Task_review", "already has the ID"),
    ("StartEvent_applied", "id", "1abc", "not a valid ID"),
])
def test_invalid_values_are_refused_with_an_error_naming_the_field(designer, element, field, value, message):
    page = apply(designer, _xml("loan_approval.bpmn"), element, **{field: value})
    errors = page.errors()
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert "not applied" in page.html


def test_multi_instance_needs_a_collection_or_cardinality(designer):
    errors = apply(designer, _xml("loan_approval.bpmn"), "Task_review", mi_mode="parallel").errors()
    assert "collection" in errors["mi_collection"][0]


def test_an_invalid_section_does_not_block_a_valid_one(designer):
    page = apply(designer, _xml("loan_approval.bpmn"), "Task_review", name="Check", priority="x")
    assert "priority" in page.errors()
    assert page.patch["props"]["name"] == "Check"
    assert "flowyard:priority" not in page.patch["props"]


def test_timer_service_and_message_validation(designer):
    race = _xml("quote_race.bpmn")
    assert "timer_value" in apply(designer, race, "Event_timeout", timer_value="24 hours").errors()
    assert "timer_value" in apply(designer, race, "Event_timeout", timer_type="timeCycle", timer_value="PT1H").errors()
    ok = apply(designer, race, "Event_timeout", timer_type="timeCycle", timer_value="R3/PT1H")
    assert ok.patch["timer"] == {"type": "timeCycle", "body": "R3/PT1H"}
    order = _xml("order_fulfilment.bpmn")
    errors = apply(designer, order, "Task_reserve_stock", http_headers="not json", retry_backoff="1s", http_url="ftp://x").errors()
    assert {"http_headers", "retry_backoff", "http_url"} <= set(errors)
    assert "handler" in apply(designer, order, "Task_reserve_stock", connector="python", handler="").errors()
    message = apply(designer, race, "Event_quote_received", message_name="quote-v2", correlation_key="=request_id")
    assert message.patch["message"] == "quote-v2"
    assert message.patch["props"]["flowyard:correlationKey"] == "=request_id"


def test_flow_default_and_condition_patch(designer):
    xml = _xml("loan_approval.bpmn")
    page = apply(designer, xml, "Flow_approved", condition="amount > 10")
    assert page.patch["condition"] == "amount > 10" and page.patch["isDefault"] is False
    clash = apply(designer, xml, "Flow_approved", is_default="on")
    assert "condition" in clash.errors()
    gateway = apply(designer, xml, "Gateway_decision", default_flow="Flow_approved")
    assert gateway.patch["default"] == "Flow_approved"
    assert "default_flow" in apply(designer, xml, "Gateway_decision", default_flow="Flow_elsewhere").errors()


def test_form_field_rows_are_added_and_removed_by_the_server(designer):
    xml = _xml("loan_approval.bpmn")
    added = apply(designer, xml, "Task_review", _action="add:ff")
    assert added.values()["ff-count"] == "4" and added.errors() == {}
    assert len(added.patch["extensions"]["formField"]) == 3  # the blank row is not written
    removed = apply(designer, xml, "Task_review", _action="remove:ff:1")
    assert removed.values()["ff-count"] == "2"
    assert [f["key"] for f in removed.patch["extensions"]["formField"]] == ["decision", "comment"]
    dup = apply(designer, xml, "Task_review", **{"ff-2-key": "decision"})
    assert "ff-2-key" in dup.errors()


def test_multi_instance_mappings_and_call_activity(designer):
    xml = _xml("shipment_subprocess.bpmn")
    page = apply(designer, xml, "Activity_invoice", mi_mode="sequential", mi_collection="=orders", mi_element_variable="o",
                 **{"in-count": "1", "in-0-name": "customer", "in-0-expr": "order['customer']", "out-count": "1",
                    "out-0-name": "invoice_no", "out-0-expr": "number"})
    assert page.errors() == {}
    assert page.patch["multiInstance"]["isSequential"] is True
    assert page.patch["multiInstance"]["flowyard:collection"] == "=orders"
    assert page.patch["extensions"]["input"] == [{"name": "customer", "expr": "order['customer']"}]
    assert page.patch["extensions"]["output"] == [{"name": "invoice_no", "expr": "number"}]
    bad = apply(designer, xml, "Activity_invoice", **{"in-count": "1", "in-0-name": "x", "in-0-expr": "a +"})
    assert "in-0-expr" in bad.errors()


def test_call_activity_picker_lists_deployed_keys(designer):
    from designer.services import version_deploy

    version_deploy(xml=_xml("loan_approval.bpmn"))
    page = open_panel(designer, _xml("shipment_subprocess.bpmn"), "Activity_invoice")
    options = [o.get("value") for o in page.form.xpath("//select[@name='called_element']//option")]
    assert "loan_approval" in options and "invoicing" in options
    assert "not deployed yet" in page.html


def test_renaming_an_id_answers_with_the_new_id(designer):
    page = apply(designer, _xml("loan_approval.bpmn"), "Task_review", id="Task_check")
    assert page.patch["props"]["id"] == "Task_check"
    assert page.form.get("data-element") == "Task_check"


def test_unknown_element_and_broken_xml_are_400(designer):
    assert designer.post("/designer/panel_test/panel/", {"xml": _xml("loan_approval.bpmn"), "element_id": "nope"}).status_code == 400
    assert designer.post("/designer/panel_test/panel/", {"xml": "<x", "element_id": "a"}).status_code == 400
    assert designer.post("/designer/panel_test/panel/", {"element_id": "a"}).status_code == 400
