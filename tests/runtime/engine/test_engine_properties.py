"""Property: random sound block-structured processes with random XOR/OR choices and loop
exits always run to completion: one end per path, no token or wait left behind."""
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.engine import events as ev
from runtime.engine.testing.blocks import blocks, build_process, initial_variables, random_block
from runtime.engine.testing.driver import Driver, complete_all_tasks


def _run_to_end(block, picks, roundtrip=True) -> Driver:
    d = Driver(build_process(block), check_roundtrip=roundtrip)
    d.step(ev.Start(initial_variables(picks)))
    complete_all_tasks(d)
    return d


def _assert_sound_run(d: Driver) -> None:
    assert d.status == "completed", (d.status, d.token_nodes())
    assert not d.state.tokens and not d.state.waits
    ends = [h for h in d.history if h.type == "token.consumed" and h.node == "end"]
    assert len(ends) == 1
    for sub in {h.node for h in d.history if h.type == "token.status" and h.to_state == "scope"}:
        entered = sum(1 for h in d.history if h.type == "activity.started" and h.node == sub)
        completed = sum(1 for h in d.history if h.type == "activity.completed" and h.node == sub)
        assert entered == completed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block=blocks(max_leaves=14), picks=st.lists(st.integers(0, 15), min_size=1, max_size=8))
def test_random_block_processes_complete_without_leftovers(block, picks):
    _assert_sound_run(_run_to_end(block, picks))


def test_seeded_generator_processes_complete():
    for seed in range(200):
        rng = random.Random(seed)
        block = random_block(rng, 4)
        picks = [rng.randint(0, 15) for _ in range(rng.randint(1, 6))]
        _assert_sound_run(_run_to_end(block, picks, roundtrip=seed % 4 == 0))
