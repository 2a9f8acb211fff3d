"""The hand-written demo processes compile cleanly to exactly the documented graph shape."""
from __future__ import annotations

import json

import pytest

from designer.bpmn import compile_bpmn
from runtime.engine.graph import Graph

FIXTURES = ["loan_approval", "parallel_review", "order_fulfilment", "quote_race", "travel_saga",
            "shipment_subprocess", "expense_batch"]
NODE_KEYS = {"id", "name", "type", "scope", "incoming", "outgoing", "default_flow", "lane", "event", "attached_to",
             "cancel_activity", "inputs", "outputs", "multi_instance", "is_for_compensation",
             "compensation_handler", "props"}


def compiled(bpmn, name):
    result = compile_bpmn(bpmn.fixture(f"{name}.bpmn"))
    assert result.ok, [str(f) for f in result.findings]
    return result.graph


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_compiles_without_errors_or_warnings(bpmn, name):
    result = compile_bpmn(bpmn.fixture(f"{name}.bpmn"))
    assert [f for f in result.findings if f.severity != "info"] == []
    graph = result.graph
    assert graph["format"] == 1 and graph["process"]["is_executable"] is True
    assert set(graph) == {"format", "process", "nodes", "flows", "messages", "errors", "signals", "lanes"}
    for node in graph["nodes"].values():
        assert set(node) == NODE_KEYS
    for flow in graph["flows"].values():
        assert set(flow) == {"id", "name", "source", "target", "condition", "is_default"}
    assert json.loads(json.dumps(graph)) == graph
    loaded = Graph.from_dict(graph)
    assert loaded.start_events() and set(loaded.nodes) == set(graph["nodes"])


def test_loan_approval(bpmn):
    g = compiled(bpmn, "loan_approval")
    assert [line["name"] for line in g["nodes"]["Task_assess"]["props"]["script"]] == ["ratio", "risk", "auto_reject"]
    review = g["nodes"]["Task_review"]["props"]
    assert review["candidate_groups"] == "loan-officers" and review["due_date"] == "P2D"
    assert review["priority"] == "=80 if risk == 'high' else 50"
    assert [f["key"] for f in review["form"]] == ["decision", "approved_amount", "comment"]
    assert review["form"][0] == {"key": "decision", "label": "Decision", "type": "enum", "required": True,
                                 "choices": ["approve", "reject"], "default": None, "help": None}
    assert review["form"][1]["default"] == "=amount" and review["form"][2]["help"] == "Shown to the applicant"
    gateway = g["nodes"]["Gateway_decision"]
    assert gateway["default_flow"] == "Flow_rejected" and gateway["outgoing"] == ["Flow_approved", "Flow_rejected"]
    assert g["flows"]["Flow_rejected"]["is_default"] and not g["flows"]["Flow_approved"]["is_default"]
    assert g["flows"]["Flow_approved"]["condition"] == 'decision == "approve" and not auto_reject'


def test_parallel_review_lanes_are_candidate_groups(bpmn):
    g = compiled(bpmn, "parallel_review")
    groups = {n: g["nodes"][n]["props"]["candidate_groups"] for n in ("Task_sales_review", "Task_finance_review", "Task_risk_review")}
    assert groups == {"Task_sales_review": "sales", "Task_finance_review": "finance", "Task_risk_review": "risk"}
    assert g["lanes"]["finance"] == ["Task_finance_review"] and "Gateway_split" in g["lanes"]["sales"]
    assert len(g["nodes"]["Gateway_join"]["incoming"]) == 3


def test_order_fulfilment_connectors(bpmn):
    g = compiled(bpmn, "order_fulfilment")
    reserve = g["nodes"]["Task_reserve_stock"]["props"]
    assert reserve == {"connector": "http", "http": {"method": "POST", "url": "=inventory_url + '/reservations'",
                                                     "headers": '{"Accept": "application/json"}', "body": "=order"},
                       "handler": None, "result_variable": "reservation", "retries": 5, "retry_backoff": "PT2S",
                       "backoff_coefficient": None, "max_interval": None, "timeout": "PT10S"}
    charge = g["nodes"]["Task_charge_payment"]
    assert charge["props"]["connector"] == "python" and charge["props"]["retries"] == 3
    assert charge["props"]["retry_backoff"] == "PT1S" and charge["props"]["timeout"] == "PT30S"
    assert charge["inputs"] == [{"name": "amount", "expr": 'order["total"]'}]
    assert charge["outputs"] == [{"name": "payment_id", "expr": 'payment["id"]'}]
    declined = g["nodes"]["Event_payment_declined"]
    assert declined["attached_to"] == "Task_charge_payment" and declined["cancel_activity"] is True
    assert declined["event"] == {"kind": "error", "error_code": "PAYMENT_DECLINED"}
    assert g["nodes"]["Task_confirm"]["props"] == {"message": "order_confirmed"}
    assert g["nodes"]["EndEvent_cancelled"]["event"] == {"kind": "error", "error_code": "ORDER_CANCELLED"}
    assert g["errors"]["Error_declined"] == {"code": "PAYMENT_DECLINED", "name": "Payment declined"}


def test_quote_race_events(bpmn):
    g = compiled(bpmn, "quote_race")
    assert g["nodes"]["Event_quote_received"]["event"] == {"kind": "message", "message": "quote_received",
                                                          "correlation_key": "=request_id"}
    assert g["nodes"]["Event_timeout"]["event"] == {"kind": "timer", "timer": {"type": "duration", "value": "PT24H"}}
    assert g["nodes"]["Event_notify_timeout"]["event"] == {"kind": "signal", "signal": "quote_timed_out"}
    assert g["nodes"]["Task_compare"]["props"]["assignee"] == "=initiator"
    assert g["messages"] == {"Message_quote_requested": "quote_requested", "Message_quote": "quote_received"}
    assert g["signals"] == {"Signal_timeout": "quote_timed_out"}


def test_travel_saga_compensation(bpmn):
    g = compiled(bpmn, "travel_saga")
    assert g["nodes"]["Task_book_flight"]["compensation_handler"] == "Task_cancel_flight"
    assert g["nodes"]["Task_book_hotel"]["compensation_handler"] == "Task_cancel_hotel"
    assert g["nodes"]["Task_charge_card"]["compensation_handler"] is None
    assert g["nodes"]["Task_cancel_flight"]["is_for_compensation"] is True
    assert g["nodes"]["Event_undo"]["event"] == {"kind": "compensate", "activity": None}
    assert g["nodes"]["Event_charge_failed"]["event"] == {"kind": "error", "error_code": None}
    assert g["nodes"]["Event_compensate_flight"]["event"] == {"kind": "compensate", "activity": None}


def test_shipment_scopes_and_call_activity(bpmn):
    g = compiled(bpmn, "shipment_subprocess")
    inner = {n["id"] for n in g["nodes"].values() if n["scope"] == "SubProcess_prepare"}
    assert inner == {"StartEvent_prepare", "Task_pack", "Task_label", "EndEvent_prepared"}
    assert g["nodes"]["SubProcess_prepare"]["props"] == {"triggered_by_event": False}
    slow = g["nodes"]["Event_slow"]
    assert slow["cancel_activity"] is False and slow["attached_to"] == "SubProcess_prepare"
    call = g["nodes"]["Activity_invoice"]
    assert call["props"] == {"called_element": "invoicing"}
    assert [i["name"] for i in call["inputs"]] == ["customer", "amount"]
    assert Graph.from_dict(g).none_start("SubProcess_prepare").id == "StartEvent_prepare"


def test_expense_batch_multi_instance(bpmn):
    g = compiled(bpmn, "expense_batch")
    assert g["nodes"]["Task_approve_line"]["multi_instance"] == {
        "sequential": False, "cardinality": None, "collection": "=expenses", "element_variable": "expense",
        "completion_condition": "False in approvals"}
    assert g["nodes"]["Task_notify"]["multi_instance"] == {
        "sequential": True, "cardinality": "3", "collection": None, "element_variable": None,
        "completion_condition": None}
    assert g["nodes"]["Event_remind"]["event"]["timer"] == {"type": "cycle", "value": "R3/PT8H"}


def test_known_process_keys_accept_the_called_process(bpmn):
    data = bpmn.fixture("shipment_subprocess.bpmn")
    assert compile_bpmn(data, known_process_keys={"invoicing"}).findings == []
    assert [f.code for f in compile_bpmn(data, known_process_keys=set()).findings] == ["bpmn.W003"]
