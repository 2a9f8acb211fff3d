"""The compiled process graph: an immutable, indexed view of the JSON in docs/compiled-graph.md."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

FORMAT_VERSION = 1
SUPPORTED_FORMATS = (1,)


class GraphFormatError(ValueError):
    pass


@dataclass(frozen=True)
class Flow:
    id: str
    source: str
    target: str
    condition: str | None = None
    is_default: bool = False
    name: str = ""


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    name: str = ""
    scope: str | None = None
    incoming: tuple[str, ...] = ()
    outgoing: tuple[str, ...] = ()
    default_flow: str | None = None
    lane: str | None = None
    event: dict | None = None
    attached_to: str | None = None
    cancel_activity: bool = True
    inputs: tuple[dict, ...] = ()
    outputs: tuple[dict, ...] = ()
    multi_instance: dict | None = None
    is_for_compensation: bool = False
    compensation_handler: str | None = None
    props: dict | None = None

    @property
    def event_kind(self) -> str:
        return (self.event or {}).get("kind", "none")


_NODE_KEYS = set(Node.__dataclass_fields__)
_FLOW_KEYS = set(Flow.__dataclass_fields__)


class Graph:
    """Read-only compiled graph with the indexes the engine and the checker need."""

    def __init__(self, data: dict[str, Any]):
        fmt = data.get("format")
        if fmt not in SUPPORTED_FORMATS:
            raise GraphFormatError(f"unsupported compiled graph format {fmt!r}")
        self.data = data
        self.format = fmt
        self.process = data.get("process", {})
        self.nodes: dict[str, Node] = {}
        for nid, raw in data.get("nodes", {}).items():
            kw = {k: v for k, v in raw.items() if k in _NODE_KEYS}
            for key in ("incoming", "outgoing", "inputs", "outputs"):
                kw[key] = tuple(kw.get(key) or ())
            kw["props"] = kw.get("props") or {}
            self.nodes[nid] = Node(**kw)
        self.flows: dict[str, Flow] = {
            fid: Flow(**{k: v for k, v in raw.items() if k in _FLOW_KEYS})
            for fid, raw in data.get("flows", {}).items()
        }
        self.messages: dict[str, str] = data.get("messages", {})
        self.errors: dict[str, dict] = data.get("errors", {})
        self.signals: dict[str, str] = data.get("signals", {})
        self.lanes: dict[str, list[str]] = data.get("lanes", {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Graph":
        return cls(data)

    def to_dict(self) -> dict[str, Any]:
        return self.data

    @property
    def process_id(self) -> str:
        return self.process.get("id", "")

    @cached_property
    def boundaries(self) -> dict[str, tuple[str, ...]]:
        """activity id -> ids of the boundary events attached to it."""
        out: dict[str, list[str]] = {}
        for node in self.nodes.values():
            if node.type == "boundaryEvent" and node.attached_to:
                out.setdefault(node.attached_to, []).append(node.id)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def children(self) -> dict[str | None, tuple[str, ...]]:
        """scope id (None = process) -> ids of the nodes directly inside it."""
        out: dict[str | None, list[str]] = {}
        for node in self.nodes.values():
            out.setdefault(node.scope, []).append(node.id)
        return {k: tuple(v) for k, v in out.items()}

    def start_events(self, scope: str | None = None) -> list[Node]:
        """Start events of a scope (process level when None), in document order."""
        return [self.nodes[n] for n in self.children.get(scope, ()) if self.nodes[n].type == "startEvent"]

    def none_start(self, scope: str | None = None) -> Node | None:
        for node in self.start_events(scope):
            if node.event is None:
                return node
        return None

    def outgoing(self, node_id: str) -> list[Flow]:
        return [self.flows[f] for f in self.nodes[node_id].outgoing]

    def incoming(self, node_id: str) -> list[Flow]:
        return [self.flows[f] for f in self.nodes[node_id].incoming]

    # -- derived data for the engine, computed once per loaded graph -----------------------

    @cached_property
    def predecessors(self) -> dict[str, tuple[str, ...]]:
        """node id -> nodes a token can come from: flow sources, and for a boundary event
        the activity it is attached to (a token on the activity may leave through it)."""
        out: dict[str, list[str]] = {nid: [] for nid in self.nodes}
        for flow in self.flows.values():
            if flow.target in out:
                out[flow.target].append(flow.source)
        for node in self.nodes.values():
            if node.type == "boundaryEvent" and node.attached_to:
                out[node.id].append(node.attached_to)
        return {k: tuple(v) for k, v in out.items()}

    def join_upstream(self, join_id: str) -> dict[str, frozenset[str]]:
        """For each incoming flow of ``join_id``: the nodes from which a token can reach that
        flow without passing through the join. Cached: the OR-join asks on every arrival."""
        cache = self.__dict__.setdefault("_join_upstream", {})
        found = cache.get(join_id)
        if found is None:
            preds = self.predecessors
            found = {}
            for fid in self.nodes[join_id].incoming:
                seen = {self.flows[fid].source}
                stack = [self.flows[fid].source]
                while stack:
                    for prev in preds.get(stack.pop(), ()):
                        if prev != join_id and prev not in seen:
                            seen.add(prev)
                            stack.append(prev)
                found[fid] = frozenset(seen)
            cache[join_id] = found
        return found
