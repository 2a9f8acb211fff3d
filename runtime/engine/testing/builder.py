"""Build compiled graphs (docs/compiled-graph.md, format 1) in code.

Produces exactly the dict the BPMN compiler writes, so tests exercise the same loader
path as deployed versions::

    b = GraphBuilder("order")
    b.start("s").script("calc", total="price * qty").end("e").chain("s", "calc", "e")
    graph = b.graph()
"""
from __future__ import annotations

import copy
from typing import Any

from ..graph import FORMAT_VERSION, Graph


def timer(kind: str, value: str) -> dict:
    return {"kind": "timer", "timer": {"type": kind, "value": value}}


def message(name: str, correlation_key: str | None = None) -> dict:
    return {"kind": "message", "message": name, "correlation_key": correlation_key}


def signal(name: str) -> dict:
    return {"kind": "signal", "signal": name}


def error(code: str | None = None) -> dict:
    return {"kind": "error", "error_code": code}


def compensate(activity: str | None = None) -> dict:
    return {"kind": "compensate", "activity": activity}


TERMINATE = {"kind": "terminate"}


def io(**exprs: str) -> list[dict]:
    """``io(x="a + 1")`` -> ``[{"name": "x", "expr": "a + 1"}]`` for inputs/outputs."""
    return [{"name": k, "expr": v} for k, v in exprs.items()]


class GraphBuilder:
    def __init__(self, process_id: str = "process", name: str = ""):
        self.data: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "process": {"id": process_id, "name": name or process_id, "is_executable": True},
            "nodes": {}, "flows": {}, "messages": {}, "errors": {}, "signals": {}, "lanes": {},
        }
        self._flow_seq = 0

    # -- nodes ---------------------------------------------------------------------------

    def node(self, node_id: str, type_: str, *, name: str = "", scope: str | None = None,
             event: dict | None = None, props: dict | None = None, inputs: list | None = None,
             outputs: list | None = None, multi_instance: dict | None = None,
             lane: str | None = None, attached_to: str | None = None,
             cancel_activity: bool = True, is_for_compensation: bool = False,
             compensation_handler: str | None = None) -> "GraphBuilder":
        if node_id in self.data["nodes"]:
            raise ValueError(f"duplicate node id {node_id!r}")
        self.data["nodes"][node_id] = {
            "id": node_id, "name": name, "type": type_, "scope": scope, "incoming": [],
            "outgoing": [], "default_flow": None, "lane": lane, "event": event,
            "attached_to": attached_to, "cancel_activity": cancel_activity,
            "inputs": inputs or [], "outputs": outputs or [], "multi_instance": multi_instance,
            "is_for_compensation": is_for_compensation,
            "compensation_handler": compensation_handler, "props": props or {},
        }
        if lane:
            self.data["lanes"].setdefault(lane, []).append(node_id)
        return self

    def start(self, node_id: str = "start", event: dict | None = None, **kw) -> "GraphBuilder":
        return self.node(node_id, "startEvent", event=event, **kw)

    def end(self, node_id: str = "end", event: dict | None = None, **kw) -> "GraphBuilder":
        return self.node(node_id, "endEvent", event=event, **kw)

    def task(self, node_id: str, type_: str = "task", **kw) -> "GraphBuilder":
        return self.node(node_id, type_, **kw)

    def script(self, node_id: str, lines: list[tuple[str, str]] | None = None, **assign: str) -> "GraphBuilder":
        kw = {k: assign.pop(k) for k in list(assign) if k in _NODE_KW}
        script = [{"name": n, "expr": e} for n, e in (lines or [])]
        script += [{"name": n, "expr": e} for n, e in assign.items()]
        return self.node(node_id, "scriptTask", props={"script": script}, **kw)

    def user(self, node_id: str, *, assignee: str | None = None, candidate_groups: str | None = None,
             candidate_users: str | None = None, due_date: str | None = None,
             priority: str | None = None, form: list | None = None, **kw) -> "GraphBuilder":
        props = {"assignee": assignee, "candidate_groups": candidate_groups,
                 "candidate_users": candidate_users, "due_date": due_date, "priority": priority,
                 "form": form or []}
        return self.node(node_id, "userTask", props=props, **kw)

    def service(self, node_id: str, *, connector: str = "http", http: dict | None = None,
                handler: str | None = None, result_variable: str | None = None,
                retries: int = 3, type_: str = "serviceTask", **kw) -> "GraphBuilder":
        props = {"connector": connector, "http": http, "handler": handler,
                 "result_variable": result_variable, "retries": retries,
                 "retry_backoff": "PT1S", "timeout": "PT30S"}
        return self.node(node_id, type_, props=props, **kw)

    def receive(self, node_id: str, name: str, correlation_key: str | None = None, **kw) -> "GraphBuilder":
        return self.node(node_id, "receiveTask",
                         props={"message": name, "correlation_key": correlation_key}, **kw)

    def call(self, node_id: str, called_element: str, **kw) -> "GraphBuilder":
        return self.node(node_id, "callActivity", props={"called_element": called_element}, **kw)

    def sub(self, node_id: str, **kw) -> "GraphBuilder":
        return self.node(node_id, "subProcess", props={"triggered_by_event": False}, **kw)

    def gateway(self, node_id: str, kind: str, **kw) -> "GraphBuilder":
        """``kind``: exclusive, parallel, inclusive or eventBased."""
        return self.node(node_id, f"{kind}Gateway", **kw)

    def catch(self, node_id: str, event: dict, **kw) -> "GraphBuilder":
        return self.node(node_id, "intermediateCatchEvent", event=event, **kw)

    def throw(self, node_id: str, event: dict | None = None, **kw) -> "GraphBuilder":
        return self.node(node_id, "intermediateThrowEvent", event=event, **kw)

    def boundary(self, node_id: str, attached_to: str, event: dict, *, cancel: bool = True,
                 **kw) -> "GraphBuilder":
        kw.setdefault("scope", self.data["nodes"][attached_to]["scope"])
        return self.node(node_id, "boundaryEvent", event=event, attached_to=attached_to,
                         cancel_activity=cancel, **kw)

    def compensation(self, activity: str, handler: str) -> "GraphBuilder":
        """Attach a compensation boundary to ``activity`` with ``handler`` (already added)."""
        scope = self.data["nodes"][activity]["scope"]
        self.node(f"{activity}_compensation", "boundaryEvent", event=compensate(),
                  attached_to=activity, scope=scope)
        self.data["nodes"][activity]["compensation_handler"] = handler
        self.data["nodes"][handler]["is_for_compensation"] = True
        return self

    # -- flows ---------------------------------------------------------------------------

    def flow(self, source: str, target: str, condition: str | None = None, *,
             default: bool = False, flow_id: str | None = None) -> "GraphBuilder":
        if flow_id is None:
            self._flow_seq += 1
            flow_id = f"f{self._flow_seq}_{source}_{target}"
        self.data["flows"][flow_id] = {"id": flow_id, "name": "", "source": source,
                                       "target": target, "condition": condition,
                                       "is_default": default}
        self.data["nodes"][source]["outgoing"].append(flow_id)
        self.data["nodes"][target]["incoming"].append(flow_id)
        if default:
            self.data["nodes"][source]["default_flow"] = flow_id
        return self

    def chain(self, *node_ids: str) -> "GraphBuilder":
        for source, target in zip(node_ids, node_ids[1:]):
            self.flow(source, target)
        return self

    def build(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)

    def graph(self) -> Graph:
        return Graph.from_dict(self.build())


_NODE_KW = {"name", "scope", "event", "props", "inputs", "outputs", "multi_instance", "lane",
            "attached_to", "cancel_activity", "is_for_compensation", "compensation_handler"}
