"""Compiled graphs for the runtime's tests, built in code with the core's GraphBuilder."""
from __future__ import annotations

from runtime.engine.testing.builder import GraphBuilder, error, message, signal, timer

HANDLERS = "tests.runtime.handlers."


def field(key, type_="string", *, required=False, choices=None, default=None):
    return {"key": key, "label": key.title(), "type": type_, "required": required, "choices": choices,
            "default": default, "help": None}


def loan(key="loan"):
    """score -> user task 'decide' (group 'reviewers', a form) -> XOR approved? -> end."""
    b = GraphBuilder(key)
    b.start("s").script("score", risk="amount / 1000")
    b.user("decide", candidate_groups="reviewers", form=[
        field("approved", "boolean", required=True), field("note"),
        field("level", "enum", choices=["low", "high"], default="low"),
    ])
    b.gateway("xor", "exclusive").script("pay", paid="amount").end("ok").end("rejected")
    b.chain("s", "score", "decide", "xor")
    b.flow("xor", "pay", "approved").flow("xor", "rejected", default=True).chain("pay", "ok")
    return b


def fork_join(key="fork", branches=4, groups=None):
    """A parallel split into ``branches`` user tasks and a parallel join."""
    b = GraphBuilder(key)
    b.start("s").gateway("split", "parallel").gateway("join", "parallel").end("e")
    b.flow("s", "split")
    for i in range(branches):
        group = groups[i] if groups else None
        b.user(f"t{i}", candidate_groups=group)
        b.flow("split", f"t{i}").flow(f"t{i}", "join")
    b.flow("join", "e")
    return b


def order(key="order"):
    """Wait for message 'payment' (keyed by order_id) racing a 1-hour timer."""
    b = GraphBuilder(key)
    b.start("s").gateway("race", "eventBased")
    b.catch("paid", message("payment", "=order_id")).catch("late", timer("duration", "PT1H"))
    b.script("ship", shipped="True").end("done").end("expired")
    b.chain("s", "race")
    b.flow("race", "paid").flow("race", "late").chain("paid", "ship", "done").chain("late", "expired")
    return b


def service(key="svc", handler="ok", retries=3, boundary=False):
    b = GraphBuilder(key)
    b.start("s").service("call", connector="python", handler=HANDLERS + handler, result_variable="answer",
                         retries=retries, inputs=[{"name": "n", "expr": "n"}])
    b.end("e").chain("s", "call", "e")
    if boundary:
        b.boundary("caught", "call", error("NOPE")).end("failed").chain("caught", "failed")
    return b


def timer_wait(key="sleepy", duration="PT1S"):
    b = GraphBuilder(key)
    b.start("s").catch("wait", timer("duration", duration)).end("e").chain("s", "wait", "e")
    return b


def signal_wait(key="listener", name="go"):
    b = GraphBuilder(key)
    b.start("s").catch("hear", signal(name)).end("e").chain("s", "hear", "e")
    return b


def parent(key="parent", child="child"):
    b = GraphBuilder(key)
    b.start("s").call("sub", child, inputs=[{"name": "x", "expr": "x"}], outputs=[{"name": "y", "expr": "y"}])
    b.end("e").chain("s", "sub", "e")
    return b


def child_with_task(key="child"):
    b = GraphBuilder(key)
    b.start("s").user("work").script("calc", y="x * 10").end("e").chain("s", "work", "calc", "e")
    return b
