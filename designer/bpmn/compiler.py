"""BPMN process element -> the compiled graph dict of docs/compiled-graph.md (format 1).

The compiler only translates and resolves references; judging the result is
validation.py's job, so a file full of mistakes still compiles to a dict that the
validator can point at element by element. Elements the engine cannot run are reported
as ``unsupported`` and their ids returned as *opaque*, so the validator does not pile
"dangling flow" noise on top of the one finding that matters.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

from runtime.engine.graph import FORMAT_VERSION

from . import extensions as ext
from .definitions import RootElements
from .events import compile_event, resolve_message
from .findings import Finding, finding
from .xmlns import BPMN, FLOWYARD, attr, bpmn_children, child_text, is_bpmn, local_name

EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
TASKS = ("task", "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask", "manualTask")
ACTIVITIES = TASKS + ("subProcess", "callActivity")
GATEWAYS = ("exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway")
NODE_TYPES = EVENTS + ACTIVITIES + GATEWAYS

# Artifacts and data elements: no effect on control flow; Flowyard data lives in variables.
IGNORED = {"textAnnotation", "group", "dataObject", "dataObjectReference", "dataStoreReference",
           "dataInputAssociation", "dataOutputAssociation", "performer", "humanPerformer",
           "potentialOwner", "resourceRole", "category"}
# Children that describe their parent rather than being part of the flow.
STRUCTURAL = {"documentation", "extensionElements", "laneSet", "ioSpecification", "property",
              "incoming", "outgoing", "auditing", "monitoring", "multiInstanceLoopCharacteristics",
              "conditionExpression", "script", "supportedInterfaceRef", "ioBinding",
              "correlationSubscription", "rendering"}

_FY_EVENT_ATTRS = {"correlationKey"}
_FY_ATTRS = {
    "userTask": set(ext.USER_TASK_ATTRS), "serviceTask": set(ext.CONNECTOR_ATTRS),
    "sendTask": set(ext.CONNECTOR_ATTRS), "receiveTask": {"correlationKey"},
}
_FY_CHILDREN = {"userTask": {"formField"}, "serviceTask": {"http"}, "sendTask": {"http"}}


@dataclass
class CompiledProcess:
    graph: dict
    findings: list[Finding]
    opaque: set[str] = field(default_factory=set)


def _blank_node(el: etree._Element, node_type: str, scope: str | None, lane: str | None) -> dict:
    return {
        "id": attr(el, "id"), "name": attr(el, "name") or "", "type": node_type, "scope": scope,
        "incoming": [], "outgoing": [], "default_flow": attr(el, "default"), "lane": lane,
        "event": None, "attached_to": None, "cancel_activity": True, "inputs": [], "outputs": [],
        "multi_instance": None, "is_for_compensation": False, "compensation_handler": None, "props": {},
    }


def _lane_map(process: etree._Element) -> dict[str, str]:
    """node id -> name of the innermost lane holding it."""
    node_lane: dict[str, str] = {}

    def walk(lane_set: etree._Element) -> None:
        for lane in bpmn_children(lane_set, "lane"):
            name = (attr(lane, "name") or attr(lane, "id") or "").strip()
            for ref in bpmn_children(lane, "flowNodeRef"):
                node_lane[(ref.text or "").strip()] = name
            for child_set in bpmn_children(lane, "childLaneSet"):
                walk(child_set)  # deeper lanes overwrite: the innermost lane holds the node

    for lane_set in bpmn_children(process, "laneSet"):
        walk(lane_set)
    return node_lane


class _Compiler:
    def __init__(self, process: etree._Element, roots: RootElements):
        self.process = process
        self.roots = roots
        self.findings: list[Finding] = []
        self.nodes: dict[str, dict] = {}
        self.flow_els: list[etree._Element] = []
        self.associations: list[etree._Element] = []
        self.opaque: set[str] = set()
        self.node_lane = _lane_map(process)

    def report(self, code: str, element: str | None, message: str, hint: str = "") -> None:
        self.findings.append(finding(code, element, message, hint))

    def walk(self, container: etree._Element, scope: str | None, scope_lane: str | None) -> None:
        for el in container:
            if not is_bpmn(el):
                continue
            kind, eid = local_name(el), attr(el, "id")
            if kind == "sequenceFlow":
                self.flow_els.append(el)
            elif kind == "association":
                self.associations.append(el)
            elif kind in NODE_TYPES and not (kind == "subProcess" and attr(el, "triggeredByEvent") == "true"):
                self.node(el, kind, scope, self.node_lane.get(eid, scope_lane))
            elif kind in IGNORED:
                self.report("bpmn.I001", eid, f"ignored: {kind} {eid!r} has no effect on execution")
            elif kind not in STRUCTURAL:
                self.unsupported(el, "event sub-process" if kind == "subProcess" else kind)

    def unsupported(self, el: etree._Element, what: str) -> None:
        eid = attr(el, "id")
        self.report("bpmn.E010", eid, f"unsupported: {what} {eid!r}",
                    "Flowyard runs the elements listed in DESIGN.md's BPMN coverage; "
                    "remodel this part with supported elements")
        self.opaque.update(d.get("id") for d in el.iter() if isinstance(d.tag, str) and d.get("id"))

    def node(self, el: etree._Element, kind: str, scope: str | None, lane: str | None) -> None:
        eid = attr(el, "id")
        if not eid:
            self.report("bpmn.E030", None, f"a {kind} has no id", "give every element a unique id")
            return
        node = _blank_node(el, kind, scope, lane)
        if kind in EVENTS:
            event, found, supported = compile_event(el, kind, self.roots, in_sub_process=scope is not None)
            self.findings += found
            if not supported:
                self.opaque.add(eid)
                return
            node["event"] = event
            if kind == "boundaryEvent":
                node["attached_to"] = attr(el, "attachedToRef")
                node["cancel_activity"] = (attr(el, "cancelActivity") or "true").strip().lower() != "false"
            self.findings += ext.unknown_extensions(el, attrs=_FY_EVENT_ATTRS, children=set())
        elif kind in ACTIVITIES:
            self.activity(el, kind, node)
        elif kind == "eventBasedGateway" and (attr(el, "instantiate") or "").lower() == "true":
            self.unsupported(el, "instantiating eventBasedGateway")
            return
        self.nodes[eid] = node
        if kind == "subProcess":
            self.walk(el, eid, lane)

    def activity(self, el: etree._Element, kind: str, node: dict) -> None:
        eid = node["id"]
        node["inputs"], node["outputs"], found = ext.read_io(el)
        self.findings += found
        node["multi_instance"], found = ext.read_multi_instance(el)
        self.findings += found
        node["is_for_compensation"] = (attr(el, "isForCompensation") or "").strip().lower() == "true"
        if ext.is_bpmn_loop(el):
            self.unsupported_child(eid, "standardLoopCharacteristics", "use multi-instance, or model the loop with a gateway")
        for child in el:
            if is_bpmn(child) and local_name(child) in IGNORED:
                self.report("bpmn.I001", eid, f"ignored: {local_name(child)} on {kind} {eid!r}")
        allowed = _FY_ATTRS.get(kind, set()) | set(ext.MI_ATTRS)
        self.findings += ext.unknown_extensions(el, attrs=allowed, children=_FY_CHILDREN.get(kind, set()) | {"input", "output"})
        node["props"], found = self.activity_props(el, kind, node["lane"])
        self.findings += found

    def activity_props(self, el: etree._Element, kind: str, lane: str | None) -> tuple[dict, list[Finding]]:
        found: list[Finding] = []
        if kind == "userTask":
            return ext.read_user_task(el, lane)
        if kind == "scriptTask":
            return ext.read_script(el)
        if kind in ("serviceTask", "sendTask"):
            connector, found = ext.read_connector(el)
            if connector is None and kind == "sendTask":
                return {"message": resolve_message(el, attr(el, "messageRef"), self.roots, found, what=kind)}, found
            return connector or ext.empty_connector(), found
        if kind == "receiveTask":
            message = resolve_message(el, attr(el, "messageRef"), self.roots, found, what=kind)
            return {"message": message, "correlation_key": attr(el, "correlationKey", FLOWYARD)}, found
        if kind == "callActivity":
            return {"called_element": (attr(el, "calledElement") or "").strip() or None}, found
        if kind == "subProcess":
            return {"triggered_by_event": False}, found
        return {}, found

    def unsupported_child(self, eid: str, what: str, hint: str) -> None:
        self.report("bpmn.E010", eid, f"unsupported: {what} on {eid!r}", hint)

    def flows(self) -> dict[str, dict]:
        flows: dict[str, dict] = {}
        for el in self.flow_els:
            fid = attr(el, "id")
            source, target = attr(el, "sourceRef"), attr(el, "targetRef")
            condition = child_text(el, "conditionExpression")
            if condition is not None and ext.camunda_value(condition) != condition:
                condition = ext.camunda_value(condition)[1:]
                self.report("bpmn.W002", fid, f"imported Camunda condition as {condition!r}",
                            "Flowyard conditions are Python-style expressions: and/or/not, ==, !=")
            source_node = self.nodes.get(source)
            flows[fid] = {
                "id": fid, "name": attr(el, "name") or "", "source": source, "target": target,
                "condition": condition,
                "is_default": bool(source_node and source_node["default_flow"] == fid),
            }
            if source_node is not None:
                source_node["outgoing"].append(fid)
            if target in self.nodes:
                self.nodes[target]["incoming"].append(fid)
        return flows

    def wire_compensation(self) -> None:
        """A compensation boundary's association names the handler of the activity it sits on."""
        for assoc in self.associations:
            ends = (attr(assoc, "sourceRef"), attr(assoc, "targetRef"))
            for boundary_id, handler_id in (ends, ends[::-1]):
                boundary = self.nodes.get(boundary_id)
                if not boundary or boundary["type"] != "boundaryEvent" or (boundary["event"] or {}).get("kind") != "compensate":
                    continue
                handler = self.nodes.get(handler_id)
                activity = self.nodes.get(boundary["attached_to"])
                if handler is None or activity is None:
                    continue
                if not handler["is_for_compensation"]:
                    self.report("bpmn.E023", handler_id, f"{handler_id!r} is linked to compensation event "
                                f"{boundary_id!r} but is not marked as a compensation handler",
                                "tick 'for compensation' (isForCompensation=\"true\") on the handler")
                activity["compensation_handler"] = handler_id


def compile_process(process: etree._Element, roots: RootElements) -> CompiledProcess:
    """Translate one ``bpmn:process`` element; findings hold what could not be translated."""
    compiler = _Compiler(process, roots)
    compiler.walk(process, None, None)
    flows = compiler.flows()
    compiler.wire_compensation()
    lanes: dict[str, list[str]] = {}
    for node in compiler.nodes.values():
        if node["lane"]:
            lanes.setdefault(node["lane"], []).append(node["id"])
    pid = attr(process, "id") or ""
    graph = {
        "format": FORMAT_VERSION,
        "process": {"id": pid, "name": attr(process, "name") or "",
                    "is_executable": (attr(process, "isExecutable") or "").strip().lower() == "true"},
        "nodes": compiler.nodes,
        "flows": flows,
        "messages": dict(roots.messages),
        "errors": dict(roots.errors),
        "signals": dict(roots.signals),
        "lanes": lanes,
    }
    return CompiledProcess(graph, compiler.findings, {o for o in compiler.opaque if o})


def duplicate_ids(root: etree._Element) -> list[Finding]:
    """E030 for ids used twice among the BPMN elements (references would be ambiguous)."""
    counts = Counter(el.get("id") for el in root.iter(f"{{{BPMN}}}*") if el.get("id"))
    return [finding("bpmn.E030", eid, f"id {eid!r} is used by {n} elements", "give every element a unique id")
            for eid, n in counts.items() if n > 1]
