"""Element-level compilation: unsupported elements, process choice, lanes, Camunda import."""
from __future__ import annotations

import pytest

from designer.bpmn import compile_bpmn, list_processes, parse_bpmn

TIMER = '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>'


@pytest.mark.parametrize("element, eid, what", [
    ('<bpmn:complexGateway id="Gateway_1"/>', "Gateway_1", "complexGateway"),
    ('<bpmn:businessRuleTask id="Rule_1"/>', "Rule_1", "businessRuleTask"),
    ('<bpmn:transaction id="Tx_1"><bpmn:startEvent id="txs"/></bpmn:transaction>', "Tx_1", "transaction"),
    ('<bpmn:adHocSubProcess id="Adhoc_1"/>', "Adhoc_1", "adHocSubProcess"),
    ('<bpmn:intermediateThrowEvent id="Esc_1"><bpmn:escalationEventDefinition/></bpmn:intermediateThrowEvent>',
     "Esc_1", "escalationEventDefinition on intermediateThrowEvent"),
    ('<bpmn:intermediateCatchEvent id="Cond_1"><bpmn:conditionalEventDefinition/></bpmn:intermediateCatchEvent>',
     "Cond_1", "conditionalEventDefinition on intermediateCatchEvent"),
    ('<bpmn:intermediateThrowEvent id="Link_1"><bpmn:linkEventDefinition name="a"/></bpmn:intermediateThrowEvent>',
     "Link_1", "linkEventDefinition on intermediateThrowEvent"),
    ('<bpmn:intermediateCatchEvent id="Multi_1"><bpmn:messageEventDefinition/>' + TIMER + '</bpmn:intermediateCatchEvent>',
     "Multi_1", "multiple event definitions"),
    ('<bpmn:intermediateCatchEvent id="Err_1"><bpmn:errorEventDefinition/></bpmn:intermediateCatchEvent>',
     "Err_1", "errorEventDefinition on intermediateCatchEvent"),
    ('<bpmn:subProcess id="Evt_1" triggeredByEvent="true"><bpmn:startEvent id="es"/></bpmn:subProcess>',
     "Evt_1", "event sub-process"),
    ('<bpmn:task id="Loop_1"><bpmn:standardLoopCharacteristics/></bpmn:task>', "Loop_1", "standardLoopCharacteristics"),
    ('<bpmn:eventBasedGateway id="Inst_1" instantiate="true"/>', "Inst_1", "instantiating eventBasedGateway"),
])
def test_unsupported_elements_are_errors_naming_id_and_type(bpmn, element, eid, what):
    result = bpmn.compile(bpmn.around(element, eid))
    assert result.graph is None
    errors = [f for f in result.errors if f.code == "bpmn.E010"]
    assert [f.element for f in errors] == [eid]
    assert "unsupported" in errors[0].message and what in errors[0].message and eid in errors[0].message


def test_unsupported_message_is_exactly_as_documented(bpmn):
    result = bpmn.compile(bpmn.around('<bpmn:complexGateway id="Gateway_1"/>', "Gateway_1"))
    assert [f.message for f in result.errors] == ["unsupported: complexGateway 'Gateway_1'"]


def test_signal_start_and_timer_start_inside_sub_process_are_unsupported(bpmn):
    body = ('<bpmn:startEvent id="s"><bpmn:signalEventDefinition signalRef="S"/></bpmn:startEvent><bpmn:endEvent id="e"/>'
            + bpmn.flows("s", "e") + '<bpmn:startEvent id="ok"/>' + bpmn.flows("ok", "e")
            + '<bpmn:subProcess id="sp"><bpmn:startEvent id="ts">' + TIMER + '</bpmn:startEvent></bpmn:subProcess>')
    result = bpmn.compile(body, '<bpmn:signal id="S" name="go"/>')
    unsupported = {f.element for f in result.errors if f.code == "bpmn.E010"}
    assert unsupported == {"s", "ts"}


def test_artifacts_and_diagram_are_ignored_without_errors(bpmn):
    body = (bpmn.around('<bpmn:task id="t"/>', "t")
            + '<bpmn:textAnnotation id="note"><bpmn:text>why</bpmn:text></bpmn:textAnnotation>'
            + '<bpmn:association id="a1" sourceRef="t" targetRef="note"/>'
            + '<bpmn:group id="grp"/><bpmn:dataObject id="do"/><bpmn:dataObjectReference id="dor" dataObjectRef="do"/>'
            + '<bpmn:dataStoreReference id="dsr"/>')
    result = bpmn.compile(body)
    assert result.ok
    assert {f.element for f in result.findings if f.code == "bpmn.I001"} == {"note", "grp", "do", "dor", "dsr"}


def test_activity_data_associations_are_info(bpmn):
    task = ('<bpmn:task id="t"><bpmn:dataInputAssociation id="dia"><bpmn:sourceRef>dor</bpmn:sourceRef>'
            '</bpmn:dataInputAssociation></bpmn:task>')
    result = bpmn.compile(bpmn.around(task, "t"))
    assert result.ok and ("bpmn.I001", "t") in bpmn.codes(result)


def test_executable_process_is_chosen_and_others_reported():
    doc = b"""<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
      <bpmn:collaboration id="c">
        <bpmn:participant id="pa" name="Customer" processRef="customer"/>
        <bpmn:participant id="pb" name="Shop" processRef="shop"/>
        <bpmn:messageFlow id="mf" sourceRef="pa" targetRef="pb"/>
      </bpmn:collaboration>
      <bpmn:process id="customer" isExecutable="false"><bpmn:startEvent id="cs"/></bpmn:process>
      <bpmn:process id="shop" isExecutable="true">
        <bpmn:startEvent id="s"/><bpmn:endEvent id="e"/><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>
      </bpmn:process>
    </bpmn:definitions>"""
    result = compile_bpmn(doc)
    assert result.ok and result.process_id == "shop" and result.process_name == "Shop"
    assert {(f.code, f.element) for f in result.findings} == {("bpmn.W001", "customer"), ("bpmn.W010", "mf")}
    picked = compile_bpmn(doc, process_id="customer")
    assert picked.process_id == "customer"
    assert ("bpmn.W005", "customer") in {(f.code, f.element) for f in picked.findings}
    missing = compile_bpmn(doc, process_id="nope")
    assert missing.graph is None and [f.code for f in missing.findings] == ["bpmn.E006"]
    assert [(p.id, p.is_executable) for p in list_processes(parse_bpmn(doc))] == [("customer", False), ("shop", True)]


def test_non_executable_only_process_compiles_with_warning(bpmn):
    result = compile_bpmn(bpmn.doc(bpmn.around('<bpmn:task id="t"/>', "t"), executable=False))
    assert result.ok and [f.code for f in result.findings] == ["bpmn.W005"]


def test_innermost_lane_wins_and_sub_process_children_inherit(bpmn):
    body = ('<bpmn:laneSet><bpmn:lane id="L1" name="ops"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>'
            '<bpmn:flowNodeRef>sp</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef><bpmn:flowNodeRef>u</bpmn:flowNodeRef>'
            '<bpmn:childLaneSet><bpmn:lane id="L2" name="ops-night"><bpmn:flowNodeRef>u</bpmn:flowNodeRef></bpmn:lane>'
            '</bpmn:childLaneSet></bpmn:lane></bpmn:laneSet>'
            '<bpmn:startEvent id="start"/><bpmn:userTask id="u"/>'
            '<bpmn:subProcess id="sp"><bpmn:startEvent id="s2"/><bpmn:userTask id="inner"/><bpmn:endEvent id="e2"/>'
            + bpmn.flows("s2", "inner", "e2") + '</bpmn:subProcess><bpmn:endEvent id="end"/>'
            + bpmn.flows("start", "u", "sp", "end"))
    result = bpmn.compile(body)
    assert result.ok, [str(f) for f in result.errors]
    nodes = result.graph["nodes"]
    assert nodes["u"]["props"]["candidate_groups"] == "ops-night"
    assert nodes["inner"]["lane"] == "ops" and nodes["inner"]["props"]["candidate_groups"] == "ops"
    assert result.graph["lanes"]["ops-night"] == ["u"]


def test_explicit_groups_beat_the_lane(bpmn):
    body = ('<bpmn:laneSet><bpmn:lane id="L" name="ops"><bpmn:flowNodeRef>u</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>'
            + bpmn.around('<bpmn:userTask id="u" flowyard:assignee="ann"/>', "u"))
    props = bpmn.compile(body).graph["nodes"]["u"]["props"]
    assert props["assignee"] == "ann" and props["candidate_groups"] is None


def test_camunda_7_attributes_are_imported_with_a_warning(bpmn):
    task = ('<bpmn:userTask id="u" camunda:assignee="${initiator}" camunda:candidateGroups="clerks"'
            ' camunda:dueDate="P1D" camunda:priority="70" camunda:candidateUsers="ann"/>')
    body = ('<bpmn:startEvent id="start"/>' + task + '<bpmn:exclusiveGateway id="gw" default="no"/>'
            '<bpmn:endEvent id="end"/>' + bpmn.flows("start", "u", "gw") + bpmn.flow("gw", "end", "${amount > 10}", "yes")
            + bpmn.flow("gw", "end", fid="no"))
    result = bpmn.compile(body)
    assert result.ok
    props = result.graph["nodes"]["u"]["props"]
    assert (props["assignee"], props["candidate_groups"], props["candidate_users"], props["due_date"], props["priority"]) \
        == ("=initiator", "clerks", "ann", "P1D", "70")
    assert result.graph["flows"]["yes"]["condition"] == "amount > 10"
    assert {(f.code, f.element) for f in result.warnings} == {("bpmn.W002", "u"), ("bpmn.W002", "yes")}


def test_camunda_multi_instance_collection(bpmn):
    task = ('<bpmn:userTask id="u" flowyard:assignee="=item"><bpmn:multiInstanceLoopCharacteristics'
            ' camunda:collection="reviewers" camunda:elementVariable="item"/></bpmn:userTask>')
    result = bpmn.compile(bpmn.around(task, "u"))
    mi = result.graph["nodes"]["u"]["multi_instance"]
    assert mi["collection"] == "=reviewers" and mi["element_variable"] == "item"


def test_no_noise_around_an_unsupported_node(bpmn):
    body = ('<bpmn:startEvent id="start"/><bpmn:complexGateway id="cg"/><bpmn:endEvent id="end"/>'
            + bpmn.flows("start", "cg", "end"))
    assert [(f.code, f.element) for f in bpmn.compile(body).errors] == [("bpmn.E010", "cg")]


def test_event_definition_ref_and_message_names_resolve(bpmn):
    roots = ('<bpmn:message id="M" name="paid"/>'
             '<bpmn:timerEventDefinition id="T"><bpmn:timeDuration>PT5M</bpmn:timeDuration></bpmn:timerEventDefinition>')
    body = bpmn.around('<bpmn:intermediateCatchEvent id="c"><bpmn:eventDefinitionRef>T</bpmn:eventDefinitionRef>'
                       '</bpmn:intermediateCatchEvent>', "c")
    result = bpmn.compile(body, roots)
    assert result.graph["nodes"]["c"]["event"] == {"kind": "timer", "timer": {"type": "duration", "value": "PT5M"}}
    assert result.graph["messages"] == {"M": "paid"}


def test_error_without_code_falls_back_to_its_name(bpmn):
    body = ('<bpmn:startEvent id="s"/><bpmn:endEvent id="e"><bpmn:errorEventDefinition errorRef="E"/></bpmn:endEvent>'
            + bpmn.flows("s", "e"))
    result = bpmn.compile(body, '<bpmn:error id="E" name="Out of stock"/>')
    assert result.graph["nodes"]["e"]["event"] == {"kind": "error", "error_code": "Out of stock"}


def test_compensation_association_may_point_either_way(bpmn):
    body = (bpmn.around('<bpmn:task id="t"/>', "t")
            + '<bpmn:boundaryEvent id="cb" attachedToRef="t"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>'
            + '<bpmn:task id="undo" isForCompensation="true"/><bpmn:association id="a" sourceRef="undo" targetRef="cb"/>')
    assert bpmn.compile(body).graph["nodes"]["t"]["compensation_handler"] == "undo"


def test_handler_not_marked_for_compensation(bpmn):
    body = (bpmn.around('<bpmn:task id="t"/>', "t")
            + '<bpmn:boundaryEvent id="cb" attachedToRef="t"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>'
            + '<bpmn:task id="undo"/><bpmn:association id="a" sourceRef="cb" targetRef="undo"/>')
    assert ("bpmn.E023", "undo") in bpmn.codes(bpmn.compile(body))


def test_incoming_and_outgoing_follow_flow_document_order(bpmn):
    body = ('<bpmn:startEvent id="s"/><bpmn:parallelGateway id="g"/><bpmn:task id="a"/><bpmn:task id="b"/>'
            '<bpmn:parallelGateway id="j"/><bpmn:endEvent id="e"/>'
            + bpmn.flow("g", "b", fid="f2") + bpmn.flow("g", "a", fid="f1") + bpmn.flows("s", "g")
            + bpmn.flow("a", "j", fid="f3") + bpmn.flow("b", "j", fid="f4") + bpmn.flows("j", "e"))
    graph = bpmn.compile(body).graph
    assert graph["nodes"]["g"]["outgoing"] == ["f2", "f1"] and graph["nodes"]["j"]["incoming"] == ["f3", "f4"]


def test_a_process_may_call_itself(bpmn):
    result = bpmn.compile(bpmn.around('<bpmn:callActivity id="c" calledElement="p"/>', "c"), known_process_keys=set())
    assert result.ok and result.findings == []
