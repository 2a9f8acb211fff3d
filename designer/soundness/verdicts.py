"""From an explored state space to findings that name BPMN elements.

- Lack of synchronisation / improper completion: a state in which two tokens of the same
  scope sit at the same node (per incoming flow at a parallel/inclusive join, where several
  tokens on *different* flows are the point). Multi-instance instances share their node on
  purpose and are left out. In the interleaving semantics a token can always be held back,
  so two tokens that can both reach a node unsynchronised also meet there in some state.
- Deadlock: a state that is not ended, has no ready token and no open wait, yet holds
  tokens (the core would raise ``Deadlock``): they are parked at joins that cannot fire.
  The core ends an instance when its last token ends, so "tokens left behind at the end"
  shows up exactly as such a state.
- Option to complete: every state must be able to reach an ended state. Those that cannot
  end in a deadlock (above) or in a bottom strongly connected component with a cycle: a
  livelock.
- Dead elements: nodes no token ever occupies in any explored state.

Only witnesses are reported from an incomplete exploration (a deadlock or a meeting of
tokens that was actually reached); livelocks, dead elements and "can never complete" need
the whole state space and are left out then.
"""
from __future__ import annotations

from collections import defaultdict

from designer.bpmn.findings import Finding
from runtime.engine.graph import Graph, Node
from runtime.engine.state import JOINING, READY

from .codes import sound_finding
from .explorer import MAX_TOKENS, StateSpace

_SPLITS = ("exclusiveGateway", "inclusiveGateway", "eventBasedGateway")


def findings_for(space: StateSpace, original: Graph) -> list[Finding]:
    graph = space.graph
    out: list[Finding] = []
    out += _meetings(space, graph)
    coreachable = _coreachable(space) if space.complete else set()
    nothing_completes = space.complete and not (set(space.initial) & coreachable)
    out += _deadlocks(space, graph, fatal=nothing_completes)
    if space.complete:
        out += _livelocks(space, graph, coreachable, nothing_completes)
        out += _dead(space, original)
    else:
        limit = {"max_states": f"max_states={len(space.states)}",
                 "time_budget": f"time_budget ({space.elapsed:.1f} s)",
                 "max_tokens": f"max_tokens={MAX_TOKENS} (tokens multiply: the process is "
                               "not bounded)"}[space.bound or "max_states"]
        out.append(sound_finding(
            "sound.W006", original.process_id,
            f"not fully verified: the soundness check stopped at {limit} after exploring "
            f"{len(space.states)} states",
            "simplify the model (fewer parallel branches), or raise the bound, or accept "
            "the warning to deploy unverified"))
    for (node, message), _ in sorted(space.engine_errors.items(), key=lambda kv: str(kv[0])):
        out.append(sound_finding(
            "sound.W007", node, f"not fully verified: the engine refused a step here: {message}",
            "fix the element; the check could not follow the runs through it"))
    return out


def _label(graph: Graph, node_id: str) -> str:
    node = graph.nodes.get(node_id)
    if node is None or not node.name:
        return repr(node_id)
    return f"{node.name!r} ({node_id})"


def _witness(space: StateSpace, index: int, then: str | None = None) -> str:
    return "a run that shows it: " + " -> ".join(space.trace(index) + ([then] if then else []))


def _is_join(node: Node) -> bool:
    return node.type in ("parallelGateway", "inclusiveGateway") and len(node.incoming) > 1


def _meetings(space: StateSpace, graph: Graph) -> list[Finding]:
    first: dict[str, int] = {}
    for index, state in enumerate(space.states):
        groups: dict[tuple, int] = defaultdict(int)
        for token in state.tokens.values():
            node = graph.nodes.get(token.node)
            if node is None or token.data.get("mi_instance"):
                continue
            flow = token.flow if _is_join(node) and token.status in (READY, JOINING) else None
            groups[(token.scope, token.node, flow)] += 1
        for (_, node_id, _), count in groups.items():
            if count > 1 and node_id not in first:
                first[node_id] = index
    witnesses = {n: (i, None) for n, i in first.items()}
    for node_id, (index, label) in space.meetings.items():
        witnesses.setdefault(node_id, (index, label))
    out = []
    for node_id, (index, label) in witnesses.items():
        node = graph.nodes[node_id]
        if node.type == "endEvent":
            out.append(sound_finding(
                "sound.W003", node_id,
                f"improper completion: end event {_label(graph, node_id)} is reached by more "
                "than one token of the same run", _witness(space, index, label)
                + "; synchronise the branches with a join before the end, or give each "
                "branch its own end event"))
        else:
            out.append(sound_finding(
                "sound.W002", node_id,
                f"lack of synchronisation: two tokens of the same run reach "
                f"{_label(graph, node_id)} at once, so it runs twice",
                _witness(space, index, label) + "; merge parallel branches with a parallel (or "
                "inclusive) gateway, not an exclusive one"))
    return out


def _deadlocks(space: StateSpace, graph: Graph, *, fatal: bool) -> list[Finding]:
    found: dict[str, tuple[int, set[str]]] = {}
    for index, state in enumerate(space.states):
        if state.is_ended or not state.tokens or state.waits:
            continue
        if any(t.status == READY for t in state.tokens.values()):
            continue
        parked = [t for t in state.tokens.values() if t.status == JOINING] or list(state.tokens.values())
        for token in parked:
            entry = found.setdefault(token.node, (index, set()))
            if entry[0] == index and token.flow:
                entry[1].add(token.flow)
    out = []
    code = "sound.E001" if fatal else "sound.W001"
    for node_id, (index, filled) in sorted(found.items()):
        node = graph.nodes.get(node_id)
        missing = [f for f in (node.incoming if node else ()) if f not in filled]
        detail = f" waiting for flow(s) {', '.join(missing)}" if missing else ""
        prefix = "no run of the process can complete: " if fatal else ""
        out.append(sound_finding(
            code, node_id,
            f"{prefix}deadlock: tokens wait forever at {_label(graph, node_id)}{detail}",
            _witness(space, index) + "; a join must be of the same kind as the split it "
            "closes (exclusive with exclusive, parallel with parallel)"))
    return out


def _coreachable(space: StateSpace) -> set[int]:
    predecessors: dict[int, list[int]] = defaultdict(list)
    for source, targets in enumerate(space.successors):
        for target in targets:
            predecessors[target].append(source)
    stack = [i for i, s in enumerate(space.states) if s.is_ended]
    seen = set(stack)
    while stack:
        for previous in predecessors.get(stack.pop(), ()):
            if previous not in seen:
                seen.add(previous)
                stack.append(previous)
    return seen


def _livelocks(space: StateSpace, graph: Graph, coreachable: set[int],
               nothing_completes: bool) -> list[Finding]:
    stuck = [i for i in range(len(space.states)) if i not in coreachable]
    out, named = [], set()
    for component in _bottom_cycles(space, set(stuck)):
        moving = {t.node for i in component for t in space.states[i].tokens.values()
                  if t.status == READY and t.node in graph.nodes}
        nodes = sorted(set().union(*(_flow_cycle(graph, n) for n in moving))) if moving else []
        if not nodes:
            continue
        element = _loop_decision(graph, set(nodes)) or nodes[0]
        if element in named:
            continue
        named.add(element)
        prefix = "no run of the process can complete: " if nothing_completes else ""
        out.append(sound_finding(
            "sound.W004", element,
            f"{prefix}livelock: runs can cycle through {', '.join(nodes)} forever without a "
            "way out", _witness(space, min(component)) + "; give the loop an exit flow "
            "that leads to an end event"))
    return out


def _loop_decision(graph: Graph, cycle: set[str]) -> str | None:
    """The decision that closes the cycle: a splitting gateway with a flow back to the
    node where runs enter the cycle from outside (else any splitting gateway on it)."""
    entries = {n for n in cycle
               if any(graph.flows[f].source not in cycle for f in graph.nodes[n].incoming)}
    decisions = sorted(n for n in cycle
                       if graph.nodes[n].type in _SPLITS and len(graph.nodes[n].outgoing) > 1)
    closing = [n for n in decisions
               if any(graph.flows[f].target in entries for f in graph.nodes[n].outgoing)]
    return (closing or decisions or [None])[0]


def _flow_cycle(graph: Graph, node_id: str) -> set[str]:
    """The nodes on sequence-flow cycles through ``node_id`` (itself when there are none)."""
    def reach(start: str, step) -> set[str]:
        seen, stack = {start}, [start]
        while stack:
            for nxt in step(stack.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen
    forward = reach(node_id, lambda n: [graph.flows[f].target for f in graph.nodes[n].outgoing])
    backward = reach(node_id, lambda n: [graph.flows[f].source for f in graph.nodes[n].incoming])
    return (forward & backward) or {node_id}


def _bottom_cycles(space: StateSpace, within: set[int]) -> list[list[int]]:
    """Strongly connected components of ``within`` with a cycle and no edge leaving them
    (iterative Tarjan, so deep state spaces do not hit the recursion limit)."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    result: list[list[int]] = []
    counter = 0
    for root in sorted(within):
        if root in index_of:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = [s for s in space.successors[node] if s in within]
            if child < len(successors):
                work.append((node, child + 1))
                target = successors[child]
                if target not in index_of:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index_of[target])
                continue
            if low[node] == index_of[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                members = set(component)
                leaves = any(s not in members for i in component for s in space.successors[i])
                cyclic = len(component) > 1 or node in space.successors[node]
                if cyclic and not leaves:
                    result.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result


def _dead(space: StateSpace, graph: Graph) -> list[Finding]:
    reached = space.reached
    skip = _never_reported(graph)
    dead = {n for n in graph.nodes if n not in reached and n not in skip}
    for node_id in list(dead):  # inside a dead sub-process or on a dead activity: implied
        node = graph.nodes[node_id]
        if node.scope in dead or node.attached_to in dead:
            dead.discard(node_id)
    entries = [n for n in sorted(dead)
               if not graph.predecessors.get(n) or any(p not in dead for p in graph.predecessors[n])]
    covered: set[str] = set()
    out = []
    # Report where each dead region begins; a dead cycle with no such entry (its way in
    # was removed) is reported at its first node.
    for node_id in entries + sorted(dead):
        if node_id in covered:
            continue
        after = _downstream(graph, node_id, dead)
        covered.update(after, {node_id})
        more = f" (nor can what follows it: {', '.join(after)})" if after else ""
        out.append(sound_finding(
            "sound.W005", node_id,
            f"dead element: no run ever reaches {_label(graph, node_id)}{more}",
            "connect it to the flow, or remove it; if only data makes it reachable, the "
            "conditions on the way contradict each other"))
    return out


def _downstream(graph: Graph, node_id: str, dead: set[str]) -> list[str]:
    """Dead nodes after ``node_id``, in flow order (breadth first)."""
    order, seen, queue = [], {node_id}, [node_id]
    while queue:
        for flow_id in graph.nodes[queue.pop(0)].outgoing:
            target = graph.flows[flow_id].target
            if target in dead and target not in seen:
                seen.add(target)
                order.append(target)
                queue.append(target)
    return order


def _never_reported(graph: Graph) -> set[str]:
    """Process-level start events (where runs begin) and the compensation machinery (only
    run by a compensation throw or an operator's rollback, never by the normal flow)."""
    skip = {n.id for n in graph.nodes.values()
            if (n.type == "startEvent" and n.scope is None) or n.is_for_compensation
            or (n.type == "boundaryEvent" and n.event_kind == "compensate")}
    changed = True
    while changed:
        changed = False
        for node in graph.nodes.values():
            if node.id not in skip and node.scope in skip:
                skip.add(node.id)
                changed = True
    return skip
