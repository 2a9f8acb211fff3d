"""version_deploy runs the soundness check: unsound models need accept_warnings, certain
deadlocks are refused outright."""
from __future__ import annotations

import pytest

from designer.models import ProcessDefinition, ProcessVersion
from designer.services import DeployError, version_deploy

pytestmark = pytest.mark.django_db

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:flowyard="http://flowyard.dev/schema/bpmn/1.0"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' id="Definitions_sound" targetNamespace="http://flowyard.dev/test">\n'
)


def _split_join(split: str, join: str) -> str:
    cond = ""
    if split != "parallelGateway":
        cond = ('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">x &gt; 1'
                '</bpmn:conditionExpression>')
    default = ' default="f_b"' if split != "parallelGateway" else ""
    return (
        HEAD + '<bpmn:process id="review" name="Review" isExecutable="true">'
        '<bpmn:startEvent id="s"/>'
        f'<bpmn:{split} id="split"{default}/>'
        '<bpmn:userTask id="a" flowyard:assignee="amy"/><bpmn:userTask id="b" flowyard:assignee="bob"/>'
        f'<bpmn:{join} id="join"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f_s" sourceRef="s" targetRef="split"/>'
        f'<bpmn:sequenceFlow id="f_a" sourceRef="split" targetRef="a">{cond}</bpmn:sequenceFlow>'
        '<bpmn:sequenceFlow id="f_b" sourceRef="split" targetRef="b"/>'
        '<bpmn:sequenceFlow id="f_aj" sourceRef="a" targetRef="join"/>'
        '<bpmn:sequenceFlow id="f_bj" sourceRef="b" targetRef="join"/>'
        '<bpmn:sequenceFlow id="f_e" sourceRef="join" targetRef="e"/>'
        '</bpmn:process></bpmn:definitions>\n'
    )


def test_sound_model_deploys_without_soundness_warnings():
    result = version_deploy(xml=_split_join("parallelGateway", "parallelGateway"))
    assert result.created
    assert not [w for w in result.warnings if w["code"].startswith("sound.")]


def test_unsound_model_is_refused_without_accept_warnings():
    with pytest.raises(DeployError) as info:
        version_deploy(xml=_split_join("parallelGateway", "exclusiveGateway"))
    codes = {(f.code, f.element) for f in info.value.findings}
    assert ("sound.W002", "join") in codes
    assert not ProcessVersion.objects.exists()


def test_unsound_model_deploys_when_warnings_are_accepted_and_keeps_them():
    result = version_deploy(xml=_split_join("parallelGateway", "exclusiveGateway"), accept_warnings=True)
    assert result.created and result.version.number == 1
    assert ("sound.W002", "join") in {(w["code"], w["element"]) for w in result.version.warnings}


def test_a_deadlock_no_run_escapes_is_refused_even_with_accept_warnings():
    with pytest.raises(DeployError) as info:
        version_deploy(xml=_split_join("exclusiveGateway", "parallelGateway"), accept_warnings=True)
    assert [(f.code, f.element) for f in info.value.findings] == [("sound.E001", "join")]
    assert not ProcessDefinition.objects.exists()
