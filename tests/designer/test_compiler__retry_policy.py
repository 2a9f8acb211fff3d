"""A service task's whole retry policy comes from the model: retries, first backoff,
backoff coefficient and maximum interval (issue 5)."""
from designer.bpmn import compile_bpmn
from runtime.connectors.retry import next_delay

DOC = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:flowyard="http://flowyard.dev/schema/bpmn/1.0" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="call" flowyard:connector="python" flowyard:handler="runtime.demo_handlers.score_credit"
        flowyard:retries="6" flowyard:retryBackoff="PT2S" {extra}>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:serviceTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def _props(extra: str):
    return compile_bpmn(DOC.format(extra=extra))


def test_coefficient_and_max_interval_reach_the_policy_and_shape_the_delays():
    result = _props('flowyard:retryBackoffCoefficient="3" flowyard:retryMaxInterval="PT20S"')
    assert result.ok, result.findings
    props = result.graph["nodes"]["call"]["props"]
    assert (props["backoff_coefficient"], props["max_interval"]) == (3.0, "PT20S")
    policy = {k: props[k] for k in ("retries", "retry_backoff", "backoff_coefficient", "max_interval")}
    assert [next_delay(policy, attempt) for attempt in range(1, 5)] == [2.0, 6.0, 18.0, 20.0]


def test_without_them_the_defaults_apply():
    props = _props("").graph["nodes"]["call"]["props"]
    assert props["backoff_coefficient"] is None and props["max_interval"] is None
    assert [next_delay(props, attempt) for attempt in range(1, 4)] == [2.0, 4.0, 8.0]


def test_bad_values_are_errors_naming_the_task():
    result = _props('flowyard:retryBackoffCoefficient="0.5" flowyard:retryMaxInterval="five minutes"')
    problems = [(f.code, f.element) for f in result.errors]
    assert ("bpmn.E031", "call") in problems and len(problems) == 2, result.findings
    assert any("retryBackoffCoefficient '0.5'" in f.message for f in result.errors)
    assert any("max interval" in f.message for f in result.errors)
