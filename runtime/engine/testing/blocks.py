"""Random sound block-structured processes, for property tests and the soundness checker.

A process is a tree of blocks; every block has one entry and one exit, so any tree renders
to a sound process (no deadlock, no lack of synchronisation, proper completion):

- ``("task",)`` a script task; ``("user",)`` a user task (a wait state)
- ``("seq", [b, ...])`` blocks in sequence
- ``("xor", [b, ...])``, ``("and", [b, ...])``, ``("or", [b, ...])`` split/join blocks
- ``("loop", b)`` body repeated while a decision says so (bounded)
- ``("sub", b)`` an embedded sub-process around the body

Decisions are made at run time by script tasks reading the ``picks`` list variable with a
global counter ``n``, so one list of integers drives every XOR/OR choice and loop exit,
and loops stop once ``n`` reaches ``LOOP_LIMIT``.
"""
from __future__ import annotations

import random
from typing import Any

from .builder import GraphBuilder

LOOP_LIMIT = 40
Block = tuple


class _Renderer:
    def __init__(self, builder: GraphBuilder):
        self.b = builder
        self.seq = 0

    def _id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}{self.seq}"

    def _decide(self, gateway: str, modulo: int, scope: str | None) -> str:
        node = self._id("decide")
        self.b.script(node, [("n", "n + 1"), (f"c_{gateway}", f"picks[n % len(picks)] % {modulo}")],
                      scope=scope)
        return node

    def render(self, block: Block, scope: str | None) -> tuple[str, str]:
        """Add ``block``'s nodes; return its (entry, exit) node ids."""
        kind = block[0]
        b = self.b
        if kind == "task":
            node = self._id("task")
            b.script(node, [("steps", "steps + 1")], scope=scope)
            return node, node
        if kind == "user":
            node = self._id("user")
            b.user(node, candidate_groups="staff", scope=scope)
            return node, node
        if kind == "seq":
            parts = [self.render(child, scope) for child in block[1]]
            for (_, exit_), (entry, _) in zip(parts, parts[1:]):
                b.flow(exit_, entry)
            return parts[0][0], parts[-1][1]
        if kind in ("xor", "and", "or"):
            return self._split_join(kind, block[1], scope)
        if kind == "loop":
            merge, split = self._id("loopmerge"), self._id("loopsplit")
            b.gateway(merge, "exclusive", scope=scope).gateway(split, "exclusive", scope=scope)
            entry, exit_ = self.render(block[1], scope)
            decide = self._decide(split, 2, scope)
            b.flow(merge, entry).flow(exit_, decide).flow(decide, split)
            b.flow(split, merge, f"c_{split} != 0 and n < {LOOP_LIMIT}")
            leave = self._id("loopexit")
            b.gateway(leave, "exclusive", scope=scope)
            b.flow(split, leave, default=True)
            return merge, leave
        if kind == "sub":
            node = self._id("sub")
            b.sub(node, scope=scope)
            start, end = self._id("substart"), self._id("subend")
            b.start(start, scope=node).end(end, scope=node)
            entry, exit_ = self.render(block[1], node)
            b.flow(start, entry).flow(exit_, end)
            return node, node
        raise ValueError(f"unknown block {kind!r}")

    def _split_join(self, kind: str, branches: list, scope: str | None) -> tuple[str, str]:
        b = self.b
        gw = {"xor": "exclusive", "and": "parallel", "or": "inclusive"}[kind]
        split, join = self._id(f"{kind}split"), self._id(f"{kind}join")
        b.gateway(split, gw, scope=scope).gateway(join, gw, scope=scope)
        count = len(branches)
        entry = split
        if kind == "xor":
            entry = self._decide(split, count, scope)
            b.flow(entry, split)
        elif kind == "or":
            entry = self._decide(split, 2 ** count, scope)
            b.flow(entry, split)
        for index, branch in enumerate(branches):
            first, last = self.render(branch, scope)
            if kind == "xor":
                if index == 0:
                    b.flow(split, first, default=True)
                else:
                    b.flow(split, first, f"c_{split} == {index}")
            elif kind == "or":
                b.flow(split, first, f"c_{split} // {2 ** index} % 2 == 1")
            else:
                b.flow(split, first)
            b.flow(last, join)
        if kind == "or":
            b.flow(split, join, default=True)
        return entry, join


def build_process(block: Block, process_id: str = "generated") -> dict[str, Any]:
    """Render a block tree into a compiled graph dict: start -> block -> end."""
    builder = GraphBuilder(process_id)
    renderer = _Renderer(builder)
    builder.start("start").end("end")
    entry, exit_ = renderer.render(block, None)
    builder.flow("start", entry).flow(exit_, "end")
    return builder.build()


def initial_variables(picks: list[int]) -> dict[str, Any]:
    return {"picks": list(picks) or [0], "n": 0, "steps": 0}


def random_block(rng: random.Random, depth: int = 3, *, users: bool = True) -> Block:
    """A random block tree from a seeded generator (no hypothesis needed)."""
    leaves = ["task", "user"] if users else ["task"]
    if depth <= 0 or rng.random() < 0.3:
        return (rng.choice(leaves),)
    kind = rng.choice(["seq", "xor", "and", "or", "loop", "sub"])
    if kind in ("loop", "sub"):
        return (kind, random_block(rng, depth - 1, users=users))
    return (kind, [random_block(rng, depth - 1, users=users) for _ in range(rng.randint(2, 3))])


def blocks(*, users: bool = True, max_leaves: int = 12):
    """A hypothesis strategy for block trees (imports hypothesis lazily)."""
    from hypothesis import strategies as st

    leaf = st.sampled_from([("task",), ("user",)] if users else [("task",)])

    def extend(children):
        several = st.lists(children, min_size=2, max_size=3)
        return st.one_of(
            st.tuples(st.just("seq"), several),
            st.tuples(st.just("xor"), several),
            st.tuples(st.just("and"), several),
            st.tuples(st.just("or"), several),
            st.tuples(st.just("loop"), children),
            st.tuples(st.just("sub"), children),
        )

    return st.recursive(leaf, extend, max_leaves=max_leaves)
