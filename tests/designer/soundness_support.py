"""Helpers for the soundness property tests: block-tree strategies, defect injection and a
compiled-graph -> BPMN XML writer (for the independent oracle, which reads XML text)."""
from __future__ import annotations

import copy
from xml.sax.saxutils import escape, quoteattr

from hypothesis import strategies as st

KINDS = ("seq", "xor", "and", "or", "loop", "sub")


def trees(*, kinds=KINDS, users: bool = True, max_leaves: int = 7):
    """Block trees (the vocabulary of runtime.engine.testing.blocks) over ``kinds``."""
    leaf = st.sampled_from([("task",), ("user",)] if users else [("task",)])
    several = lambda children: st.lists(children, min_size=2, max_size=3)  # noqa: E731
    makers = {
        "seq": lambda c: st.tuples(st.just("seq"), several(c)),
        "xor": lambda c: st.tuples(st.just("xor"), several(c)),
        "and": lambda c: st.tuples(st.just("and"), several(c)),
        "or": lambda c: st.tuples(st.just("or"), several(c)),
        "loop": lambda c: st.tuples(st.just("loop"), c),
        "sub": lambda c: st.tuples(st.just("sub"), c),
    }
    return st.recursive(leaf, lambda c: st.one_of(*(makers[k](c) for k in kinds)),
                        max_leaves=max_leaves)


# -- defects: each returns (broken graph, elements a finding must name, codes) or None ----

def _nodes(graph, prefix: str) -> list[str]:
    return sorted(n for n in graph["nodes"] if n.startswith(prefix))


def _retype(graph, node_id: str, type_: str) -> dict:
    broken = copy.deepcopy(graph)
    broken["nodes"][node_id]["type"] = type_
    return broken


def _remove_flow(graph, flow_id: str) -> dict:
    broken = copy.deepcopy(graph)
    flow = broken["flows"].pop(flow_id)
    broken["nodes"][flow["source"]]["outgoing"].remove(flow_id)
    broken["nodes"][flow["target"]]["incoming"].remove(flow_id)
    return broken


def _add_flow(graph, source: str, target: str) -> dict:
    broken = copy.deepcopy(graph)
    fid = f"f_extra_{source}_{target}"
    broken["flows"][fid] = {"id": fid, "name": "", "source": source, "target": target,
                            "condition": None, "is_default": False}
    broken["nodes"][source]["outgoing"].append(fid)
    broken["nodes"][target]["incoming"].append(fid)
    return broken


DEADLOCK = {"sound.E001", "sound.W001"}
UNSAFE = {"sound.W002", "sound.W003"}


def and_join_made_exclusive(graph, pick: int):
    joins = _nodes(graph, "andjoin")
    if not joins:
        return None
    join = joins[pick % len(joins)]
    return _retype(graph, join, "exclusiveGateway"), {join}, {"sound.W002"}


def xor_join_made_parallel(graph, pick: int):
    joins = _nodes(graph, "xorjoin")
    if not joins:
        return None
    join = joins[pick % len(joins)]
    return _retype(graph, join, "parallelGateway"), {join}, DEADLOCK


def or_join_made_parallel(graph, pick: int):
    joins = _nodes(graph, "orjoin")
    if not joins:
        return None
    join = joins[pick % len(joins)]
    return _retype(graph, join, "parallelGateway"), {join}, DEADLOCK


def and_branch_dropped(graph, pick: int):
    """Drop the flow from a parallel split into one branch: the join waits for it forever."""
    splits = _nodes(graph, "andsplit")
    if not splits:
        return None
    split = splits[pick % len(splits)]
    flow = graph["nodes"][split]["outgoing"][pick % len(graph["nodes"][split]["outgoing"])]
    join = f"andjoin{int(split[len('andsplit'):]) + 1}"
    return _remove_flow(graph, flow), {join}, DEADLOCK


def and_split_shortcut_to_end(graph, pick: int):
    """An extra flow out of a parallel split straight to its scope's end event."""
    splits = _nodes(graph, "andsplit")
    if not splits:
        return None
    split = splits[pick % len(splits)]
    scope = graph["nodes"][split]["scope"]
    end = next(n["id"] for n in graph["nodes"].values()
               if n["type"] == "endEvent" and n["scope"] == scope)
    return _add_flow(graph, split, end), {end}, {"sound.W003"}


def loop_exit_looped_back(graph, pick: int):
    """The loop's exit flow is redirected to its merge: the loop can never be left."""
    splits = _nodes(graph, "loopsplit")
    if not splits:
        return None
    split = splits[pick % len(splits)]
    broken = copy.deepcopy(graph)
    node = broken["nodes"][split]
    exit_flow = broken["flows"][node["default_flow"]]
    merge = next(broken["flows"][f]["target"] for f in node["outgoing"] if f != exit_flow["id"])
    broken["nodes"][exit_flow["target"]]["incoming"].remove(exit_flow["id"])
    exit_flow["target"] = merge
    broken["nodes"][merge]["incoming"].append(exit_flow["id"])
    return broken, {split}, {"sound.W004"}


DEFECTS = [and_join_made_exclusive, xor_join_made_parallel, or_join_made_parallel,
           and_branch_dropped, and_split_shortcut_to_end, loop_exit_looped_back]


# -- graph -> BPMN XML ----------------------------------------------------------------------

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'id="Definitions_generated" targetNamespace="http://flowyard.dev/test">\n')
_PLAIN = {"scriptTask": "task"}  # the oracle reads tasks; a script is data, not control flow


def to_xml(graph: dict) -> str:
    """BPMN 2.0 XML of a compiled graph's control flow (nodes, scopes, flows, conditions,
    default flows), with incoming/outgoing children as modelers write them."""
    nodes, flows = graph["nodes"], graph["flows"]

    def element(node: dict) -> str:
        tag = _PLAIN.get(node["type"], node["type"])
        attrs = f' id={quoteattr(node["id"])}'
        if node.get("default_flow"):
            attrs += f' default={quoteattr(node["default_flow"])}'
        inner = "".join(f"<bpmn:incoming>{escape(f)}</bpmn:incoming>" for f in node["incoming"])
        inner += "".join(f"<bpmn:outgoing>{escape(f)}</bpmn:outgoing>" for f in node["outgoing"])
        if node["type"] == "subProcess":
            inner += scope(node["id"])
        return f"<bpmn:{tag}{attrs}>{inner}</bpmn:{tag}>\n"

    def scope(scope_id) -> str:
        members = [n for n in nodes.values() if n["scope"] == scope_id]
        body = "".join(element(n) for n in members)
        ids = {n["id"] for n in members}
        for flow in flows.values():
            if flow["source"] in ids:
                cond = ""
                if flow.get("condition"):
                    cond = ('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                            f'{escape(flow["condition"])}</bpmn:conditionExpression>')
                body += (f'<bpmn:sequenceFlow id={quoteattr(flow["id"])} sourceRef={quoteattr(flow["source"])} '
                         f'targetRef={quoteattr(flow["target"])}>{cond}</bpmn:sequenceFlow>\n')
        return body

    pid = graph["process"]["id"]
    return (HEAD + f'<bpmn:process id={quoteattr(pid)} isExecutable="true">\n' + scope(None)
            + "</bpmn:process>\n</bpmn:definitions>\n")
