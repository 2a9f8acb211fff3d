"""One minimal BPMN per rule that triggers it, and a near-identical one that does not."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

from designer.bpmn import CODES

TASK = '<bpmn:task id="t"/>'
BASE = lambda b: b.around(TASK, "t")  # noqa: E731
MSG = '<bpmn:message id="Msg" name="paid"/>'


@dataclass
class Case:
    code: str
    element: str | None
    bad: Callable
    good: Callable
    kwargs: dict | None = None

    def __str__(self):
        return self.code


def xor(b, default=None, cond_a=None, cond_b=None, gw_type="exclusiveGateway"):
    default_attr = f' default="{default}"' if default else ""
    return (f'<bpmn:startEvent id="start"/><bpmn:{gw_type} id="gw"{default_attr}/>'
            '<bpmn:task id="a"/><bpmn:task id="b"/><bpmn:endEvent id="end"/>'
            + b.flow("start", "gw") + b.flow("gw", "a", cond_a, "fa") + b.flow("gw", "b", cond_b, "fb")
            + b.flows("a", "end") + b.flow("b", "end", fid="fb_end"))


def timer_catch(b, text, kind="timeDuration"):
    return b.around(f'<bpmn:intermediateCatchEvent id="tm"><bpmn:timerEventDefinition>'
                    f'<bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>', "tm")


def user(b, attrs="", ext=""):
    return b.around(f'<bpmn:userTask id="u" {attrs}><bpmn:extensionElements>{ext}</bpmn:extensionElements></bpmn:userTask>', "u")


def service(b, attrs="", ext=""):
    return b.around(f'<bpmn:serviceTask id="s" {attrs}><bpmn:extensionElements>{ext}</bpmn:extensionElements></bpmn:serviceTask>', "s")


def sub(b, inner, crossing=False):
    body = ('<bpmn:startEvent id="start"/><bpmn:subProcess id="sp">' + inner
            + '</bpmn:subProcess><bpmn:endEvent id="end"/>' + b.flows("start", "sp", "end"))
    return body


def boundary(b, host_el, host_id, definition, extra=""):
    return (b.around(host_el, host_id) + f'<bpmn:boundaryEvent id="be" attachedToRef="{host_id}">{definition}'
            '</bpmn:boundaryEvent><bpmn:endEvent id="end2"/>' + b.flows("be", "end2") + extra)


COMPENSATION = (lambda b, assoc: b.around('<bpmn:task id="t"/>', "t")
                + '<bpmn:boundaryEvent id="cb" attachedToRef="t"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>'
                + '<bpmn:task id="undo" isForCompensation="true"/>'
                + ('<bpmn:association id="as" sourceRef="cb" targetRef="undo"/>' if assoc else ""))

CASES = [
    Case("bpmn.E011", "p", lambda b: '<bpmn:task id="t"/><bpmn:endEvent id="end"/>' + b.flows("t", "end"), BASE),
    Case("bpmn.E011", "sp", lambda b: sub(b, '<bpmn:task id="i"/>'),
         lambda b: sub(b, '<bpmn:startEvent id="s2"/><bpmn:endEvent id="e2"/>' + b.flows("s2", "e2"))),
    Case("bpmn.E012", "fx", lambda b: BASE(b) + b.flow("ghost", "end", fid="fx"), BASE),
    Case("bpmn.E013", "orphan", lambda b: BASE(b) + '<bpmn:task id="orphan"/>' + b.flows("orphan", "end"), BASE),
    Case("bpmn.E014", "t", lambda b: '<bpmn:startEvent id="start"/><bpmn:task id="t"/>' + b.flows("start", "t"), BASE),
    Case("bpmn.E015", "fa", lambda b: xor(b), lambda b: xor(b, default="fb", cond_a="x &gt; 1")),
    Case("bpmn.E015", "fa", lambda b: xor(b, gw_type="inclusiveGateway", cond_b="y"),
         lambda b: xor(b, gw_type="inclusiveGateway", cond_a="x", cond_b="y")),
    Case("bpmn.E016", "gw", lambda b: b.around('<bpmn:parallelGateway id="gw"/>', "gw"), BASE),
    Case("bpmn.E017", "gw", lambda b: xor(b, default="fb_end", cond_a="x", cond_b="y"),
         lambda b: xor(b, default="fb", cond_a="x")),
    Case("bpmn.E018", "fa", lambda b: xor(b, default="fb", cond_a='__import__("os")'),
         lambda b: xor(b, default="fb", cond_a='len(items) &gt; 0')),
    Case("bpmn.E018", "fa", lambda b: xor(b, default="fb", cond_a="().__class__"),
         lambda b: xor(b, default="fb", cond_a="()")),
    Case("bpmn.E018", "fa", lambda b: xor(b, default="fb", cond_a='open("x")'),
         lambda b: xor(b, default="fb", cond_a='str("x")')),
    Case("bpmn.E018", "sc", lambda b: b.around('<bpmn:scriptTask id="sc"><bpmn:script>total = price *</bpmn:script></bpmn:scriptTask>', "sc"),
         lambda b: b.around('<bpmn:scriptTask id="sc"><bpmn:script># c\n\ntotal = price * 2\n</bpmn:script></bpmn:scriptTask>', "sc")),
    Case("bpmn.E018", "sc", lambda b: b.around('<bpmn:scriptTask id="sc"><bpmn:script>price * 2</bpmn:script></bpmn:scriptTask>', "sc"),
         lambda b: b.around('<bpmn:scriptTask id="sc"><bpmn:script>x = price == 2</bpmn:script></bpmn:scriptTask>', "sc")),
    Case("bpmn.E018", "t", lambda b: b.around('<bpmn:task id="t"><bpmn:extensionElements><flowyard:input name="x" expr="a.b"/></bpmn:extensionElements></bpmn:task>', "t"),
         lambda b: b.around('<bpmn:task id="t"><bpmn:extensionElements><flowyard:input name="x" expr="a[&quot;b&quot;]"/></bpmn:extensionElements></bpmn:task>', "t")),
    Case("bpmn.E018", "t", lambda b: b.around('<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>[x for x in y]</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:task>', "t"),
         lambda b: b.around('<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>len(y)</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:task>', "t")),
    Case("bpmn.E018", "t", lambda b: b.around('<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3</bpmn:loopCardinality><bpmn:completionCondition>lambda: 1</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:task>', "t"),
         lambda b: b.around('<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3</bpmn:loopCardinality><bpmn:completionCondition>done</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics></bpmn:task>', "t")),
    Case("bpmn.E018", "u", lambda b: user(b, 'flowyard:assignee="=eval(x)"'), lambda b: user(b, 'flowyard:assignee="=initiator"')),
    Case("bpmn.E018", "s", lambda b: service(b, 'flowyard:connector="http"', '<flowyard:http url="=base +"/>'),
         lambda b: service(b, 'flowyard:connector="http"', '<flowyard:http url="=base + \'/x\'"/>')),
    Case("bpmn.E019", "tm", lambda b: timer_catch(b, "PT1X"), lambda b: timer_catch(b, "PT1H")),
    Case("bpmn.E019", "tm", lambda b: timer_catch(b, "next tuesday", "timeDate"),
         lambda b: timer_catch(b, "2030-01-31T09:00:00Z", "timeDate")),
    Case("bpmn.E019", "tm", lambda b: timer_catch(b, "3/PT1H", "timeCycle"), lambda b: timer_catch(b, "R3/PT1H", "timeCycle")),
    Case("bpmn.E019", "tm", lambda b: timer_catch(b, "R/P1Q", "timeCycle"), lambda b: timer_catch(b, "R/PT1M", "timeCycle")),
    Case("bpmn.E019", "tm", lambda b: b.around('<bpmn:intermediateCatchEvent id="tm"><bpmn:timerEventDefinition/></bpmn:intermediateCatchEvent>', "tm"),
         lambda b: timer_catch(b, "=wait_for", "timeDuration")),
    Case("bpmn.E020", "u", lambda b: user(b), lambda b: user(b, 'flowyard:candidateUsers="ann,bob"')),
    Case("bpmn.E021", "s", lambda b: service(b), lambda b: service(b, 'flowyard:connector="python" flowyard:handler="shop.pay"')),
    Case("bpmn.E021", "s", lambda b: service(b, 'flowyard:connector="http"', '<flowyard:http method="GET"/>'),
         lambda b: service(b, 'flowyard:connector="http"', '<flowyard:http method="GET" url="https://x.test/a"/>')),
    Case("bpmn.E021", "s", lambda b: service(b, 'flowyard:connector="python"'),
         lambda b: service(b, 'flowyard:connector="python" flowyard:handler="a.b"')),
    Case("bpmn.E022", "c", lambda b: b.around('<bpmn:callActivity id="c"/>', "c"),
         lambda b: b.around('<bpmn:callActivity id="c" calledElement="child"/>', "c")),
    Case("bpmn.W003", "c", lambda b: b.around('<bpmn:callActivity id="c" calledElement="nope"/>', "c"),
         lambda b: b.around('<bpmn:callActivity id="c" calledElement="child"/>', "c"), {"known_process_keys": {"child"}}),
    Case("bpmn.E023", "undo", lambda b: COMPENSATION(b, False), lambda b: COMPENSATION(b, True)),
    Case("bpmn.E023", "cb", lambda b: COMPENSATION(b, False), lambda b: COMPENSATION(b, True)),
    Case("bpmn.E024", "mc", lambda b: b.around('<bpmn:intermediateCatchEvent id="mc"><bpmn:messageEventDefinition/></bpmn:intermediateCatchEvent>', "mc"),
         lambda b: (b.around('<bpmn:intermediateCatchEvent id="mc"><bpmn:messageEventDefinition messageRef="Msg"/></bpmn:intermediateCatchEvent>', "mc"), MSG)),
    Case("bpmn.E024", "r", lambda b: b.around('<bpmn:receiveTask id="r"/>', "r"),
         lambda b: (b.around('<bpmn:receiveTask id="r" messageRef="Msg"/>', "r"), MSG)),
    Case("bpmn.E025", "end", lambda b: '<bpmn:startEvent id="start"/><bpmn:endEvent id="end"><bpmn:errorEventDefinition/></bpmn:endEvent>' + b.flows("start", "end"),
         lambda b: ('<bpmn:startEvent id="start"/><bpmn:endEvent id="end"><bpmn:errorEventDefinition errorRef="Err"/></bpmn:endEvent>'
                    + b.flows("start", "end"), '<bpmn:error id="Err" errorCode="E42"/>')),
    Case("bpmn.E026", "u", lambda b: user(b, 'flowyard:assignee="ann"', '<flowyard:formField key="k" type="enum"/>'),
         lambda b: user(b, 'flowyard:assignee="ann"', '<flowyard:formField key="k" type="enum" choices="a,b"/>')),
    Case("bpmn.E026", "u", lambda b: user(b, 'flowyard:assignee="ann"', '<flowyard:formField key="k" type="money"/>'),
         lambda b: user(b, 'flowyard:assignee="ann"', '<flowyard:formField key="k" type="number"/>')),
    Case("bpmn.E026", "u", lambda b: user(b, 'flowyard:assignee="ann"', '<flowyard:formField key="k"/><flowyard:formField key="k"/>'),
         lambda b: user(b, 'flowyard:assignee="ann"', '<flowyard:formField key="k"/><flowyard:formField key="j"/>')),
    Case("bpmn.E027", "a", lambda b: xor(b, gw_type="eventBasedGateway"),
         lambda b: ('<bpmn:startEvent id="start"/><bpmn:eventBasedGateway id="gw"/><bpmn:receiveTask id="a" messageRef="Msg"/>'
                    '<bpmn:intermediateCatchEvent id="b"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>'
                    '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent><bpmn:endEvent id="end"/>'
                    + b.flows("start", "gw", "a", "end") + b.flows("gw", "b", "end"), MSG)),
    Case("bpmn.E028", "be", lambda b: boundary(b, '<bpmn:parallelGateway id="g"/>', "g", '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>'),
         lambda b: boundary(b, TASK, "t", '<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>')),
    Case("bpmn.E029", "mc", lambda b: b.around('<bpmn:intermediateCatchEvent id="mc"><bpmn:messageEventDefinition messageRef="Nope"/></bpmn:intermediateCatchEvent>', "mc"),
         lambda b: (b.around('<bpmn:intermediateCatchEvent id="mc"><bpmn:messageEventDefinition messageRef="Msg"/></bpmn:intermediateCatchEvent>', "mc"), MSG)),
    Case("bpmn.E029", "th", lambda b: b.around('<bpmn:intermediateThrowEvent id="th"><bpmn:compensateEventDefinition activityRef="ghost"/></bpmn:intermediateThrowEvent>', "th"),
         lambda b: b.around('<bpmn:intermediateThrowEvent id="th"><bpmn:compensateEventDefinition activityRef="start"/></bpmn:intermediateThrowEvent>', "th")),
    Case("bpmn.E030", "t", lambda b: BASE(b) + '<bpmn:textAnnotation id="t"/>', lambda b: BASE(b) + '<bpmn:textAnnotation id="note"/>'),
    Case("bpmn.E031", "u", lambda b: user(b, 'flowyard:assignee="ann" flowyard:priority="urgent"'),
         lambda b: user(b, 'flowyard:assignee="ann" flowyard:priority="90"')),
    Case("bpmn.E031", "u", lambda b: user(b, 'flowyard:assignee="ann" flowyard:dueDate="tomorrow"'),
         lambda b: user(b, 'flowyard:assignee="ann" flowyard:dueDate="P2D"')),
    Case("bpmn.E031", "s", lambda b: service(b, 'flowyard:connector="python" flowyard:handler="a.b" flowyard:retries="-1"'),
         lambda b: service(b, 'flowyard:connector="python" flowyard:handler="a.b" flowyard:retries="0"')),
    Case("bpmn.E031", "s", lambda b: service(b, 'flowyard:connector="python" flowyard:handler="a.b" flowyard:timeout="30s"'),
         lambda b: service(b, 'flowyard:connector="python" flowyard:handler="a.b" flowyard:timeout="PT30S"')),
    Case("bpmn.E031", "s", lambda b: service(b, 'flowyard:connector="http"', '<flowyard:http url="u" headers="Accept: json"/>'),
         lambda b: service(b, 'flowyard:connector="http"', '<flowyard:http url="u" headers=\'{"Accept": "json"}\'/>')),
    Case("bpmn.E031", "s", lambda b: service(b, 'flowyard:connector="python" flowyard:handler="not a path"'),
         lambda b: service(b, 'flowyard:connector="python" flowyard:handler="pkg.mod.fn"')),
    Case("bpmn.E032", "sg", lambda b: b.around('<bpmn:intermediateThrowEvent id="sg"><bpmn:signalEventDefinition/></bpmn:intermediateThrowEvent>', "sg"),
         lambda b: (b.around('<bpmn:intermediateThrowEvent id="sg"><bpmn:signalEventDefinition signalRef="Sig"/></bpmn:intermediateThrowEvent>', "sg"),
                    '<bpmn:signal id="Sig" name="go"/>')),
    Case("bpmn.E033", "fx", lambda b: sub(b, '<bpmn:startEvent id="s2"/><bpmn:endEvent id="e2"/>' + b.flows("s2", "e2")) + b.flow("s2", "end", fid="fx"),
         lambda b: sub(b, '<bpmn:startEvent id="s2"/><bpmn:endEvent id="e2"/>' + b.flows("s2", "e2"))),
    Case("bpmn.E034", "start", lambda b: BASE(b) + b.flow("t", "start", fid="back"), BASE),
    Case("bpmn.E034", "end", lambda b: BASE(b) + b.flow("end", "t", fid="back"), BASE),
    Case("bpmn.E035", "t", lambda b: b.around('<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics/></bpmn:task>', "t"),
         lambda b: b.around('<bpmn:task id="t"><bpmn:multiInstanceLoopCharacteristics flowyard:collection="=items"/></bpmn:task>', "t")),
    Case("bpmn.E035", "t", lambda b: b.around('<bpmn:task id="t" flowyard:collection="items"><bpmn:multiInstanceLoopCharacteristics/></bpmn:task>', "t"),
         lambda b: b.around('<bpmn:task id="t" flowyard:collection="=items"><bpmn:multiInstanceLoopCharacteristics/></bpmn:task>', "t")),
    Case("bpmn.E036", "sc", lambda b: b.around('<bpmn:scriptTask id="sc" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>', "sc"),
         lambda b: b.around('<bpmn:scriptTask id="sc" scriptFormat="python"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>', "sc")),
    Case("bpmn.W004", "gw", lambda b: xor(b, default="fb", cond_a="x") + '<bpmn:task id="c"/>' + b.flow("start", "c") + b.flow("c", "gw"),
         lambda b: xor(b, default="fb", cond_a="x")),
    Case("bpmn.W006", "t", lambda b: b.around('<bpmn:task id="t" flowyard:asignee="ann"/>', "t"), BASE),
    Case("bpmn.W007", "fb", lambda b: xor(b, default="fb", cond_a="x", cond_b="y"), lambda b: xor(b, default="fb", cond_a="x")),
    Case("bpmn.W007", "fa", lambda b: xor(b, gw_type="parallelGateway", cond_a="x"), lambda b: xor(b, gw_type="parallelGateway")),
    Case("bpmn.W008", "s", lambda b: service(b, 'flowyard:connector="smtp"'), lambda b: service(b, 'flowyard:connector="python" flowyard:handler="a.b"')),
    Case("bpmn.W009", "p", lambda b: BASE(b) + '<bpmn:startEvent id="start2"/>' + b.flows("start2", "t"), BASE),
    Case("bpmn.I001", "note", lambda b: BASE(b) + '<bpmn:textAnnotation id="note"><bpmn:text>hi</bpmn:text></bpmn:textAnnotation>', BASE),
]


def _body_and_roots(built) -> tuple[str, str]:
    """Cases return the process body, or (body, root elements such as messages)."""
    return built if isinstance(built, tuple) else (built, "")


@pytest.mark.parametrize("case", CASES, ids=[f"{c.code}-{i}" for i, c in enumerate(CASES)])
def test_rule_triggers_on_bad_and_not_on_good(bpmn, case):
    kwargs = case.kwargs or {}
    bad = bpmn.compile(*_body_and_roots(case.bad(bpmn)), **kwargs)
    assert (case.code, case.element) in bpmn.codes(bad), [str(f) for f in bad.findings]
    good = bpmn.compile(*_body_and_roots(case.good(bpmn)), **kwargs)
    assert case.code not in {f.code for f in good.findings}, [str(f) for f in good.findings]
    if case.code.startswith("bpmn.E"):
        assert bad.graph is None
        assert not good.errors, [str(f) for f in good.errors]
        assert good.graph is not None


def test_every_documented_validation_code_has_a_case_or_a_dedicated_test():
    covered = {c.code for c in CASES}
    elsewhere = {"bpmn.E001", "bpmn.E002", "bpmn.E003", "bpmn.E004", "bpmn.E005", "bpmn.E006",  # parser tests
                 "bpmn.E010", "bpmn.W001", "bpmn.W002", "bpmn.W005", "bpmn.W010", "bpmn.I002"}  # compiler tests
    assert CODES - covered - elsewhere == set()


def test_findings_carry_a_hint_and_the_element(bpmn):
    result = bpmn.compile(xor(bpmn))
    (e015,) = [f for f in result.findings if f.code == "bpmn.E015" and f.element == "fa"]
    assert e015.severity == "error" and e015.hint
    assert e015.as_dict() == {"code": "bpmn.E015", "severity": "error", "element": "fa",
                              "message": e015.message, "hint": e015.hint}


def test_errors_come_before_warnings_and_infos(bpmn):
    body = xor(bpmn) + '<bpmn:textAnnotation id="note"/>'
    severities = [f.severity for f in bpmn.compile(body).findings]
    order = {"error": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.get)
