"""Builders for small BPMN documents, so each rule test shows only the elements it is about."""
from __future__ import annotations

from pathlib import Path

import pytest

from designer.bpmn import compile_bpmn

DATA = Path(__file__).resolve().parent.parent / "data"

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:flowyard="http://flowyard.dev/schema/bpmn/1.0"'
    ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' id="Definitions_test" targetNamespace="http://flowyard.dev/test">\n'
)


class Bpmn:
    """``bpmn.doc(body)`` wraps flow elements into a definitions document with process 'p';
    ``bpmn.flows('a', 'b', 'c')`` chains sequence flows f_a_b, f_b_c."""

    data = DATA

    def doc(self, body: str, roots: str = "", *, executable: bool = True) -> str:
        flag = "true" if executable else "false"
        return f'{HEAD}<bpmn:process id="p" name="Test" isExecutable="{flag}">\n{body}\n</bpmn:process>\n{roots}</bpmn:definitions>\n'

    def flows(self, *ids: str) -> str:
        return "".join(self.flow(a, b) for a, b in zip(ids, ids[1:]))

    def flow(self, source: str, target: str, condition: str | None = None, fid: str | None = None) -> str:
        fid = fid or f"f_{source}_{target}"
        if condition is None:
            return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>\n'
        return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
                f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
                f'</bpmn:conditionExpression></bpmn:sequenceFlow>\n')

    def around(self, element: str, eid: str) -> str:
        """start -> element(eid) -> end, the smallest process that is otherwise valid."""
        return ('<bpmn:startEvent id="start"/>' + element + '<bpmn:endEvent id="end"/>'
                + self.flows("start", eid, "end"))

    def compile(self, body: str, roots: str = "", **kwargs):
        return compile_bpmn(self.doc(body, roots), **kwargs)

    @staticmethod
    def codes(result) -> set[tuple[str, str | None]]:
        return {(f.code, f.element) for f in result.findings}

    def fixture(self, name: str) -> bytes:
        return (DATA / name).read_bytes()


@pytest.fixture
def bpmn() -> Bpmn:
    return Bpmn()
