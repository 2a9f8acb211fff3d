"""Validation of a compiled graph dict: structure, wiring and every value it carries.

Rules run over the compiled form (docs/compiled-graph.md), not the XML, so they judge
exactly what the engine would run, and they can be re-run on a stored graph. Each rule
returns findings (codes in findings.py) naming the element to fix; none raises. Whether
the control flow can deadlock is the soundness checker's question, not this module's.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from runtime.engine.expressions import is_expression_value

from .findings import Finding, finding
from .values import check_node_values, expression_problem

ACTIVITIES = {"task", "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
              "manualTask", "subProcess", "callActivity"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}
BUILTIN_CONNECTORS = {"http", "python"}

Rule = Callable[["_Context"], Iterable[Finding]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


class _Context:
    def __init__(self, graph: dict, known_process_keys, opaque):
        self.graph = graph
        self.nodes: dict[str, dict] = graph["nodes"]
        self.flows: dict[str, dict] = graph["flows"]
        self.known_process_keys = known_process_keys
        self.opaque = frozenset(opaque)

    def of_type(self, *types: str) -> list[dict]:
        return [n for n in self.nodes.values() if n["type"] in types]

    def is_compensation_boundary(self, node: dict) -> bool:
        return node["type"] == "boundaryEvent" and (node["event"] or {}).get("kind") == "compensate"


def validate_graph(
    graph: dict, *, known_process_keys: Iterable[str] | None = None, opaque: Iterable[str] = (),
) -> list[Finding]:
    """All findings for a compiled graph. ``opaque`` ids (unsupported elements already
    reported) are treated as existing so flows touching them are not reported again."""
    ctx = _Context(graph, None if known_process_keys is None else set(known_process_keys), opaque)
    findings: list[Finding] = []
    for check in RULES:
        findings.extend(check(ctx))
    return findings


@rule
def start_events(ctx: _Context) -> Iterable[Finding]:
    scopes = [None] + [n["id"] for n in ctx.of_type("subProcess")]
    for scope in scopes:
        starts = [n for n in ctx.of_type("startEvent") if n["scope"] == scope]
        owner = scope or ctx.graph["process"]["id"]
        if not starts:
            where = f"sub-process {scope!r}" if scope else f"process {owner!r}"
            yield finding("bpmn.E011", owner, f"{where} has no start event",
                          "add a start event (none, timer or message) and connect it")
        if len([s for s in starts if s["event"] is None]) > 1:
            yield finding("bpmn.W009", owner, f"{len(starts)} none start events in one scope; only the first is used",
                          "keep a single none start event per process or sub-process")


@rule
def flow_ends(ctx: _Context) -> Iterable[Finding]:
    for flow in ctx.flows.values():
        missing = [f"{end} {flow[end]!r}" for end in ("source", "target")
                   if flow[end] not in ctx.nodes and flow[end] not in ctx.opaque]
        if missing:
            yield finding("bpmn.E012", flow["id"], f"sequence flow {flow['id']!r} has a missing {' and '.join(missing)}",
                          "reconnect both ends of the flow to elements of this process")
            continue
        source, target = ctx.nodes.get(flow["source"]), ctx.nodes.get(flow["target"])
        if source and target and source["scope"] != target["scope"]:
            yield finding("bpmn.E033", flow["id"], f"sequence flow {flow['id']!r} crosses a sub-process boundary",
                          "connect to the sub-process itself, or use a start/end event inside it")


@rule
def connectivity(ctx: _Context) -> Iterable[Finding]:
    for node in ctx.nodes.values():
        nid, ntype, label = node["id"], node["type"], f"{node['type']} {node['id']!r}"
        handler = node["is_for_compensation"]
        if node["incoming"] and (ntype in ("startEvent", "boundaryEvent") or handler):
            yield finding("bpmn.E034", nid, f"{label} may not have incoming sequence flows",
                          "remove the incoming flow; compensation handlers are reached by association")
        elif not node["incoming"] and ntype not in ("startEvent", "boundaryEvent") and not handler:
            yield finding("bpmn.E013", nid, f"{label} has no incoming sequence flow", "connect it or remove it")
        no_flow_out = ntype == "endEvent" or handler or ctx.is_compensation_boundary(node)
        if node["outgoing"] and no_flow_out:
            yield finding("bpmn.E034", nid, f"{label} may not have outgoing sequence flows",
                          "remove the outgoing flow")
        elif not node["outgoing"] and not no_flow_out:
            yield finding("bpmn.E014", nid, f"{label} has no outgoing sequence flow",
                          "connect it onward, ending in an end event")


@rule
def gateways(ctx: _Context) -> Iterable[Finding]:
    for gw in ctx.of_type(*GATEWAYS):
        gid, ins, outs = gw["id"], len(gw["incoming"]), len(gw["outgoing"])
        if gw["type"] == "eventBasedGateway" and outs == 1:
            yield finding("bpmn.E016", gid, f"event-based gateway {gid!r} has a single outgoing flow",
                          "an event-based gateway races two or more events")
        elif ins == 1 and outs == 1:
            yield finding("bpmn.E016", gid, f"{gw['type']} {gid!r} neither splits nor joins",
                          "remove the gateway, or give it several outgoing (split) or incoming (join) flows")
        elif ins > 1 and outs > 1:
            yield finding("bpmn.W004", gid, f"{gw['type']} {gid!r} both joins and splits",
                          "use one gateway to join and another to split; it reads better and behaves as drawn")
        silent = gw["type"] in ("parallelGateway", "eventBasedGateway")
        for fid in gw["outgoing"]:
            flow = ctx.flows[fid]
            if gw["type"] in ("exclusiveGateway", "inclusiveGateway") and outs > 1 and not flow["is_default"] \
                    and flow["condition"] is None:
                yield finding("bpmn.E015", fid, f"flow {fid!r} out of {gw['type']} {gid!r} has no condition",
                              "add a condition expression, or make it the gateway's default flow")
            if flow["condition"] is not None and (silent or flow["is_default"]):
                why = "default flows" if flow["is_default"] else f"{gw['type']} splits"
                yield finding("bpmn.W007", fid, f"condition on flow {fid!r} is never evaluated ({why} ignore it)",
                              "remove the condition")
        if gw["type"] == "eventBasedGateway":
            for fid in gw["outgoing"]:
                target = ctx.nodes.get(ctx.flows[fid]["target"])
                if target and not (target["type"] == "receiveTask" or (
                        target["type"] == "intermediateCatchEvent" and target["event"])):
                    yield finding("bpmn.E027", target["id"], f"{target['type']} {target['id']!r} follows event-based "
                                  f"gateway {gid!r}", "only intermediate catch events and receive tasks may follow it")


@rule
def default_flows(ctx: _Context) -> Iterable[Finding]:
    for node in ctx.nodes.values():
        default = node["default_flow"]
        if default is None:
            continue
        if node["type"] not in ACTIVITIES | {"exclusiveGateway", "inclusiveGateway"}:
            yield finding("bpmn.E017", node["id"], f"{node['type']} {node['id']!r} cannot have a default flow",
                          "only exclusive/inclusive gateways and activities have default flows")
        elif default not in node["outgoing"]:
            yield finding("bpmn.E017", node["id"], f"default flow {default!r} of {node['id']!r} is not one of its "
                          "outgoing flows", "pick one of the element's outgoing flows as default")


@rule
def expressions_and_values(ctx: _Context) -> Iterable[Finding]:
    for flow in ctx.flows.values():
        if flow["condition"] is not None:
            problem = expression_problem(flow["condition"])
            if problem:
                yield finding("bpmn.E018", flow["id"], f"condition of flow {flow['id']!r}: {problem}",
                              "conditions are Python-style expressions, e.g. amount > 1000 and approved")
    for node in ctx.nodes.values():
        yield from check_node_values(node)


@rule
def boundaries(ctx: _Context) -> Iterable[Finding]:
    for b in ctx.of_type("boundaryEvent"):
        host_id = b["attached_to"]
        host = ctx.nodes.get(host_id)
        if host_id in ctx.opaque:
            continue
        if host is None or host["type"] not in ACTIVITIES or host["scope"] != b["scope"]:
            what = "nothing" if not host_id else f"{host['type']} {host_id!r}" if host else f"missing {host_id!r}"
            yield finding("bpmn.E028", b["id"], f"boundary event {b['id']!r} is attached to {what}",
                          "attach boundary events to a task, sub-process or call activity of the same scope")


@rule
def tasks(ctx: _Context) -> Iterable[Finding]:
    for node in ctx.of_type("userTask", "serviceTask", "sendTask", "callActivity"):
        nid, props = node["id"], node["props"]
        if node["type"] == "userTask" and not any(props.get(k) for k in ("assignee", "candidate_groups", "candidate_users")):
            yield finding("bpmn.E020", nid, f"user task {nid!r} has no assignee, candidate group, candidate user or lane",
                          "set flowyard:assignee or flowyard:candidateGroups, or put the task in a lane")
        elif node["type"] == "callActivity":
            key = props.get("called_element")
            if not key:
                yield finding("bpmn.E022", nid, f"call activity {nid!r} names no process to call",
                              "set calledElement to the key (process id) of a deployed process")
            elif ctx.known_process_keys is not None and key not in ctx.known_process_keys:
                yield finding("bpmn.W003", nid, f"call activity {nid!r} calls {key!r}, which is not deployed",
                              "deploy that process before starting this one")
        elif node["type"] in ("serviceTask", "sendTask") and ("connector" in props):
            yield from _connector(nid, node["type"], props)


def _connector(nid: str, ntype: str, props: dict) -> Iterable[Finding]:
    connector, hint = props["connector"], "see DESIGN.md: flowyard:connector=\"http\" with <flowyard:http url=...>, " \
        "or flowyard:connector=\"python\" flowyard:handler=\"dotted.path\""
    if not connector:
        yield finding("bpmn.E021", nid, f"{ntype} {nid!r} has no connector", hint)
    elif connector == "http" and not (props["http"] or {}).get("url"):
        yield finding("bpmn.E021", nid, f"http connector of {nid!r} has no url", hint)
    elif connector == "python" and not props["handler"]:
        yield finding("bpmn.E021", nid, f"python connector of {nid!r} has no handler", hint)
    elif connector not in BUILTIN_CONNECTORS:
        yield finding("bpmn.W008", nid, f"connector {connector!r} of {nid!r} is not built in",
                      "register it with the runtime before deploying")


@rule
def multi_instance(ctx: _Context) -> Iterable[Finding]:
    for node in ctx.nodes.values():
        mi = node["multi_instance"]
        if mi is None:
            continue
        collection = mi["collection"]
        if collection is not None and not is_expression_value(collection):
            yield finding("bpmn.E035", node["id"], f"multi-instance collection {collection!r} of {node['id']!r} "
                          "is not an expression", "write it as an expression, e.g. flowyard:collection=\"=items\"")
        elif mi["cardinality"] is None and collection is None:
            yield finding("bpmn.E035", node["id"], f"multi-instance {node['id']!r} has neither a loop cardinality "
                          "nor a collection", "set loopCardinality (e.g. 3) or flowyard:collection=\"=items\"")


@rule
def compensation(ctx: _Context) -> Iterable[Finding]:
    wired = {n["compensation_handler"] for n in ctx.nodes.values() if n["compensation_handler"]}
    for node in ctx.nodes.values():
        if node["is_for_compensation"] and node["id"] not in wired:
            yield finding("bpmn.E023", node["id"], f"compensation handler {node['id']!r} is not linked to any activity",
                          "draw an association from a compensation boundary event on the activity to the handler")
        if ctx.is_compensation_boundary(node):
            host = ctx.nodes.get(node["attached_to"])
            if host is not None and not host["compensation_handler"]:
                yield finding("bpmn.E023", node["id"], f"compensation boundary event {node['id']!r} has no handler",
                              "draw an association from it to a task marked 'for compensation'")
        event = node["event"] or {}
        target = event.get("activity")
        if event.get("kind") == "compensate" and node["type"] != "boundaryEvent" and target \
                and target not in ctx.nodes:
            yield finding("bpmn.E029", node["id"], f"{node['id']!r} compensates {target!r}, which does not exist",
                          "pick an activity of this process, or leave it empty to compensate all")
