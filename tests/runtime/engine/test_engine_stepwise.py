"""Soundness hooks (runtime.engine.stepwise): one token at a time, expressions answered by the caller."""
from __future__ import annotations

import datetime as _dt
import itertools

import pytest

from runtime.engine import EngineError, InstanceState, events, run
from runtime.engine.state import READY, WAITING
from runtime.engine.stepwise import advance_token, apply_event, ready_tokens
from runtime.engine.testing.builder import GraphBuilder

NOW = _dt.datetime(2024, 1, 1, tzinfo=_dt.timezone.utc)


def _ids():
    counter = itertools.count(1)
    return lambda: f"t{next(counter)}"


def _fork_join():
    b = GraphBuilder("p")
    b.start("s").gateway("split", "parallel").script("a", x="1").user("u", candidate_groups="g")
    b.gateway("join", "parallel").end("e")
    b.chain("s", "split").flow("split", "a").flow("split", "u").flow("a", "join").flow("u", "join")
    b.flow("join", "e")
    return b.graph()


def test_apply_event_runs_no_token_and_advance_token_moves_exactly_one():
    graph, new_id = _fork_join(), _ids()
    state = InstanceState()
    apply_event(graph, state, events.Start({}), now=NOW, new_id=new_id)
    assert [(t.node, t.status) for t in state.tokens.values()] == [("s", READY)]
    advance_token(graph, state, ready_tokens(state)[0].id, now=NOW, new_id=new_id)
    assert [t.node for t in ready_tokens(state)] == ["split"]
    advance_token(graph, state, ready_tokens(state)[0].id, now=NOW, new_id=new_id)
    assert sorted(t.node for t in ready_tokens(state)) == ["a", "u"]


def test_driving_every_ready_token_reaches_the_same_state_as_run():
    graph = _fork_join()
    stepped, new_id = InstanceState(), _ids()
    apply_event(graph, stepped, events.Start({}), now=NOW, new_id=new_id)
    while ready_tokens(stepped):
        advance_token(graph, stepped, ready_tokens(stepped)[-1].id, now=NOW, new_id=new_id)
    direct = run(graph, InstanceState(), events.Start({}), now=NOW, new_id=_ids()).state
    shape = lambda s: sorted((t.node, t.status) for t in s.tokens.values())  # noqa: E731
    assert shape(stepped) == shape(direct) == [("join", "joining"), ("u", WAITING)]
    assert stepped.variables == direct.variables == {"x": 1}


def test_evaluate_hook_decides_conditions_instead_of_the_data():
    b = GraphBuilder("p").start("s").gateway("x", "exclusive").end("e1").end("e2")
    b.flow("s", "x").flow("x", "e1", "missing_variable > 1").flow("x", "e2", default=True)
    graph = b.graph()
    asked = []

    def evaluate(source, node):
        asked.append((source, node))
        return True

    state, new_id = InstanceState(), _ids()
    apply_event(graph, state, events.Start({}), now=NOW, new_id=new_id, evaluate=evaluate)
    advance_token(graph, state, ready_tokens(state)[0].id, now=NOW, new_id=new_id, evaluate=evaluate)
    advance_token(graph, state, ready_tokens(state)[0].id, now=NOW, new_id=new_id, evaluate=evaluate)
    assert [t.node for t in ready_tokens(state)] == ["e1"]
    assert asked == [("missing_variable > 1", "x")]


def test_without_the_hook_conditions_are_evaluated_on_the_data():
    b = GraphBuilder("p").start("s").gateway("x", "exclusive").end("e1").end("e2")
    b.flow("s", "x").flow("x", "e1", "missing_variable > 1").flow("x", "e2", default=True)
    graph = b.graph()
    state, new_id = InstanceState(), _ids()
    apply_event(graph, state, events.Start({}), now=NOW, new_id=new_id)
    advance_token(graph, state, ready_tokens(state)[0].id, now=NOW, new_id=new_id)
    with pytest.raises(EngineError, match="missing_variable"):
        advance_token(graph, state, ready_tokens(state)[0].id, now=NOW, new_id=new_id)


def test_advance_token_refuses_a_token_that_is_not_ready():
    graph, new_id = _fork_join(), _ids()
    state = InstanceState()
    apply_event(graph, state, events.Start({}), now=NOW, new_id=new_id)
    with pytest.raises(EngineError, match="not ready"):
        advance_token(graph, state, "nope", now=NOW, new_id=new_id)
