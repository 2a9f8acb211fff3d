"""Soundness-check figures: parse+compile+verify a 50-node and a 200-node process, and how
many states the checker explores in one second.

    .venv/bin/python -m bench.soundness

The processes are sequences of realistic blocks (user tasks, parallel reviews of three,
exclusive decisions, rework loops), so they compile without findings and are sound.
"""
from __future__ import annotations

import itertools
import time

from designer.bpmn import compile_bpmn
from designer.soundness import check

HEAD = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:flowyard="http://flowyard.dev/schema/bpmn/1.0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="D" targetNamespace="bench">'
        '<bpmn:process id="bench" isExecutable="true">')


class _Writer:
    def __init__(self):
        self.ids = itertools.count(1)
        self.parts: list[str] = []
        self.nodes = 0

    def node(self, tag: str, attrs: str = "") -> str:
        nid = f"n{next(self.ids)}"
        self.nodes += 1
        self.parts.append(f'<bpmn:{tag} id="{nid}" {attrs}/>')
        return nid

    def flow(self, source: str, target: str, condition: str | None = None) -> str:
        fid = f"f{next(self.ids)}"
        cond = ('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                f'{condition}</bpmn:conditionExpression>') if condition else ""
        self.parts.append(f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
                          f'{cond}</bpmn:sequenceFlow>')
        return fid

    def user(self) -> str:
        return self.node("userTask", 'flowyard:candidateGroups="staff"')

    def block(self, kind: int) -> tuple[str, str]:
        if kind == 0:
            node = self.user()
            return node, node
        if kind == 1:  # parallel review by three
            split, join = self.node("parallelGateway"), self.node("parallelGateway")
            for _ in range(3):
                task = self.user()
                self.flow(split, task)
                self.flow(task, join)
            return split, join
        if kind == 2:  # exclusive decision
            split, join = self.node("exclusiveGateway"), self.node("exclusiveGateway")
            a, b = self.user(), self.user()
            self.flow(split, a, "amount &gt; 100")
            self._default(split, self.flow(split, b))
            self.flow(a, join)
            self.flow(b, join)
            return split, join
        merge, task, split = self.node("exclusiveGateway"), self.user(), self.node("exclusiveGateway")
        done = self.node("task")  # rework loop: decide, then leave through a plain task
        self.flow(merge, task)
        self.flow(task, split)
        self.flow(split, merge, "rework")
        self._default(split, self.flow(split, done))
        return merge, done

    def _default(self, gateway: str, flow: str) -> None:
        for i, part in enumerate(self.parts):
            if f'id="{gateway}"' in part:
                self.parts[i] = part.replace("/>", f' default="{flow}"/>')


def process(target_nodes: int) -> str:
    writer = _Writer()
    previous = writer.node("startEvent")
    kinds = itertools.cycle([0, 1, 2, 3])
    while writer.nodes < target_nodes - 1:
        entry, exit_ = writer.block(next(kinds))
        writer.flow(previous, entry)
        previous = exit_
    writer.flow(previous, writer.node("endEvent"))
    return HEAD + "".join(writer.parts) + "</bpmn:process></bpmn:definitions>", writer.nodes


def wide(branches: int, length: int) -> dict:
    """A parallel block of ``branches`` chains of ``length`` user tasks: length^branches states."""
    writer = _Writer()
    start, split, join, end = (writer.node("startEvent"), writer.node("parallelGateway"),
                               writer.node("parallelGateway"), writer.node("endEvent"))
    writer.flow(start, split)
    writer.flow(join, end)
    for _ in range(branches):
        previous = split
        for _ in range(length):
            task = writer.user()
            writer.flow(previous, task)
            previous = task
        writer.flow(previous, join)
    xml = HEAD + "".join(writer.parts) + "</bpmn:process></bpmn:definitions>"
    return compile_bpmn(xml).graph


def main() -> None:
    for size in (50, 200):
        xml, nodes = process(size)
        best = None
        for _ in range(5):
            t0 = time.perf_counter()
            result = compile_bpmn(xml)
            t1 = time.perf_counter()
            report = check(result.graph)
            t2 = time.perf_counter()
            assert result.ok and report.sound, (result.findings, report.findings)
            if best is None or t2 - t0 < best[0]:
                best = (t2 - t0, t1 - t0, t2 - t1, report.states_explored)
        total, compiled, verified, states = best
        print(f"{nodes}-node process: parse+compile {compiled * 1000:.1f} ms, verify "
              f"{verified * 1000:.1f} ms ({states} states), total {total * 1000:.1f} ms")
    graph = wide(6, 6)
    report = check(graph, max_states=10**9, time_budget=1.0)
    print(f"one second of exploration: {report.states_explored} states "
          f"({report.states_explored / report.seconds:.0f} states/s, complete={report.complete})")


if __name__ == "__main__":
    main()
