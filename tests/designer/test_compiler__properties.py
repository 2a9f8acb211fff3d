"""Property: any block-structured process (sequences, XOR/AND/OR blocks, loops with exits)
written as BPMN compiles with no errors to a graph that mirrors the XML exactly."""
from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer.bpmn import compile_bpmn
from runtime.engine.graph import Graph

HEAD = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:flowyard="http://flowyard.dev/schema/bpmn/1.0"><bpmn:process id="gen" isExecutable="true">')

blocks = st.recursive(
    st.sampled_from(["task", "user", "script", "service", "timer"]).map(lambda k: ("leaf", k)),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda b: ("seq", b)),
        st.tuples(st.sampled_from(["exclusive", "parallel", "inclusive"]), st.lists(inner, min_size=2, max_size=3))
        .map(lambda t: ("split", t)),
        inner.map(lambda b: ("loop", b)),
    ),
    max_leaves=12,
)


LEAVES = {
    "task": ("task", "", ""),
    "user": ("userTask", "", 'flowyard:candidateGroups="staff"'),
    "script": ("scriptTask", "<bpmn:script>x = x + 1</bpmn:script>", ""),
    "service": ("serviceTask", "", 'flowyard:connector="python" flowyard:handler="demo.step"'),
    "timer": ("intermediateCatchEvent",
              "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>", ""),
}


class _Writer:
    """Renders a block tree; every block returns (first node id, last node id)."""

    def __init__(self):
        self.ids = itertools.count()
        self.nodes: dict[str, list] = {}  # id -> [tag, inner, attrs]
        self.flows: list[str] = []

    def node(self, tag: str, inner: str = "", attrs: str = "") -> str:
        nid = f"n{next(self.ids)}"
        self.nodes[nid] = [tag, inner, attrs]
        return nid

    def flow(self, source: str, target: str, condition: str | None = None) -> str:
        fid = f"f{next(self.ids)}"
        cond = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
        self.flows.append(f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">{cond}</bpmn:sequenceFlow>')
        return fid

    def default(self, nid: str, fid: str) -> None:
        self.nodes[nid][2] += f' default="{fid}"'

    def block(self, block) -> tuple[str, str]:
        kind, arg = block
        if kind == "leaf":
            nid = self.node(*LEAVES[arg])
            return nid, nid
        if kind == "seq":
            parts = [self.block(child) for child in arg]
            for (_, last), (first, _) in zip(parts, parts[1:]):
                self.flow(last, first)
            return parts[0][0], parts[-1][1]
        if kind == "loop":
            join = self.node("exclusiveGateway")
            first, last = self.block(arg)
            self.flow(join, first)
            split = self.node("exclusiveGateway")
            self.flow(last, split)
            self.flow(split, join, "x &lt; 3")
            after = self.node("task")
            self.default(split, self.flow(split, after))
            return join, after
        gateway, children = arg
        split, join = self.node(f"{gateway}Gateway"), self.node(f"{gateway}Gateway")
        for i, child in enumerate(children):
            first, last = self.block(child)
            is_last = i == len(children) - 1
            condition = None if gateway == "parallel" or is_last else f"x == {i}"
            fid = self.flow(split, first, condition)
            if gateway != "parallel" and is_last:
                self.default(split, fid)
            self.flow(last, join)
        return split, join

    def document(self, block) -> str:
        start = self.node("startEvent")
        first, last = self.block(block)
        end = self.node("endEvent")
        self.flow(start, first)
        self.flow(last, end)
        nodes = "".join(f'<bpmn:{tag} id="{nid}" {attrs}>{inner}</bpmn:{tag}>' for nid, (tag, inner, attrs) in self.nodes.items())
        return HEAD + nodes + "".join(self.flows) + "</bpmn:process></bpmn:definitions>"

    @property
    def expected_types(self) -> dict[str, str]:
        return {nid: tag for nid, (tag, _, _) in self.nodes.items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks)
def test_block_structured_processes_compile_cleanly(block):
    writer = _Writer()
    xml = writer.document(block)
    result = compile_bpmn(xml)
    assert result.findings == [] or all(f.severity == "info" for f in result.findings), \
        [str(f) for f in result.findings]
    graph = result.graph
    assert {n: node["type"] for n, node in graph["nodes"].items()} == writer.expected_types
    assert len(graph["flows"]) == len(writer.flows)
    for flow in graph["flows"].values():
        assert flow["id"] in graph["nodes"][flow["source"]]["outgoing"]
        assert flow["id"] in graph["nodes"][flow["target"]]["incoming"]
    for node in graph["nodes"].values():
        if node["default_flow"]:
            assert graph["flows"][node["default_flow"]]["is_default"]
    loaded = Graph.from_dict(graph)
    assert loaded.none_start() is not None
