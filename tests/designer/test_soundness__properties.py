"""Properties of designer.soundness on random block-structured processes
(runtime.engine.testing.blocks): sound as generated, unsound with one injected defect that a
finding names, the partial-order reduction agrees with the full interleaving, and an
independent checker (rust-bpmn-analyzer-bindings) agrees where its coverage allows."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from designer.soundness import check
from designer.soundness.abstraction import skeleton
from designer.soundness.explorer import explore
from designer.soundness.verdicts import findings_for
from runtime.engine.graph import Graph
from runtime.engine.testing.blocks import build_process

from .soundness_support import DEADLOCK, DEFECTS, UNSAFE, to_xml, trees

BOUND = {"max_states": 20_000, "time_budget": 60.0}  # never the limit for sound trees this size
# A defect can make the net unbounded (an exclusive "join" inside a loop doubles the tokens
# on every round), so there the exploration may stop at its bound: the finding must then
# come from a witness reached before it.
DEFECT_BOUND = {"max_states": 1_500, "time_budget": 60.0}
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(trees())
def test_generated_block_structured_processes_are_sound(tree):
    report = check(build_process(tree), **BOUND)
    assert report.complete
    assert report.findings == [], (tree, report.findings)


@FAST
@given(trees(), st.sampled_from(DEFECTS), st.integers(0, 10))
def test_one_injected_defect_is_found_and_named(tree, defect, pick):
    injected = defect(build_process(tree), pick)
    assume(injected is not None)
    graph, elements, codes = injected
    report = check(graph, **DEFECT_BOUND)
    named = {f.element for f in report.findings if f.code in codes}
    assert named & elements, (tree, defect.__name__, elements, report.findings)


def _verdict(graph: dict, reduce: bool) -> set[str] | None:
    space = explore(Graph.from_dict(skeleton(graph)), max_states=1_000, time_budget=60,
                    reduce=reduce)
    if not space.complete:
        return None  # an unbounded net (see DEFECT_BOUND): nothing to compare
    return {f.code for f in findings_for(space, Graph.from_dict(graph))}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(max_leaves=5), st.sampled_from([None, *DEFECTS]), st.integers(0, 10))
def test_the_reduction_reaches_the_verdicts_of_the_full_interleaving(tree, defect, pick):
    graph = build_process(tree)
    if defect is not None:
        injected = defect(graph, pick)
        assume(injected is not None)
        graph = injected[0]
    reduced, full = _verdict(graph, reduce=True), _verdict(graph, reduce=False)
    assume(reduced is not None and full is not None)
    assert reduced == full


# -- the independent oracle -----------------------------------------------------------------
#
# rust-bpmn-analyzer-bindings reads the XML *text* (given a path it reports every property
# fulfilled). It covers tasks, exclusive/parallel gateways and plain events; inclusive
# gateways raise and it runs a sub-process's start event as if it were a process start, so
# trees with "or" and "sub" blocks are left out. Conditions are ignored (every flow of an
# exclusive split possible), which is our data abstraction too.
#
# How its four properties map onto our findings, and the disagreements we expect:
# - Safeness (no two tokens on one flow) and Proper completion (no end event executed twice)
#   <-> sound.W002 / sound.W003: the same defects, possibly named one element apart
#   (it names the flow after the meeting point, we name the node).
# - Option to complete <-> sound.E001 / sound.W001. It only looks for states without a
#   transition, so a loop that can never be left (our sound.W004, livelock) passes there:
#   expected disagreement, ours is the stricter verdict.
# - Dead activities <-> sound.W005 on an activity. After a livelocked loop or a join that
#   never fires it also reports the activities behind it, as we do.

ORACLE_KINDS = ("seq", "xor", "and", "loop")


_ORACLE = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
import rust_bpmn_analyzer_bindings as analyzer
xml = sys.stdin.read()
out = {}
for name in ("safeness", "option_to_complete", "proper_completion", "dead_activities"):
    try:
        out[name] = getattr(analyzer, "analyze_" + name)(xml).fulfilled
    except BaseException as exc:  # it panics (PanicException) on what it cannot read
        out[name] = repr(exc)
print(json.dumps(out))
"""


def _oracle(xml: str) -> dict[str, bool] | None:
    """The analyzer's verdicts, in a child process: it has no bound of its own, so on an
    unbounded net (tokens multiplying in a loop) it would eat all memory. None then."""
    try:
        proc = subprocess.run([sys.executable, "-c", _ORACLE], input=xml, capture_output=True,
                              text=True, timeout=20, env={**os.environ, "RUST_BACKTRACE": "0"})
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        return None
    out = json.loads(proc.stdout)
    bad = {k: v for k, v in out.items() if not isinstance(v, bool)}
    assert not bad, f"the oracle could not read the model: {bad}"
    return out


def _ours(codes: set[str], dead_activity: bool) -> dict[str, bool]:
    return {
        "safeness": not (codes & UNSAFE),
        "proper_completion": not (codes & UNSAFE),
        "option_to_complete": not (codes & DEADLOCK),
        "dead_activities": not dead_activity,
    }


def _compare(graph: dict) -> tuple[dict, dict | None]:
    report = check(graph, **DEFECT_BOUND)
    if not report.complete:
        return {}, None  # unbounded: neither side can decide (ours says "not fully verified")
    codes = {f.code for f in report.findings}
    activity_types = {"task", "userTask", "scriptTask"}
    nodes = graph["nodes"]
    dead_activity = any(f.code == "sound.W005" and (
        nodes[f.element]["type"] in activity_types
        or any(nodes[n]["type"] in activity_types for n in nodes if n in f.message))
        for f in report.findings)
    return _ours(codes, dead_activity), _oracle(to_xml(graph))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(kinds=ORACLE_KINDS))
def test_oracle_agrees_generated_processes_are_sound(tree):
    ours, theirs = _compare(build_process(tree))
    assert theirs is not None
    assert ours == theirs == dict.fromkeys(ours, True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(kinds=ORACLE_KINDS), st.sampled_from(DEFECTS), st.integers(0, 10))
def test_oracle_agrees_on_injected_defects(tree, defect, pick):
    injected = defect(build_process(tree), pick)
    assume(injected is not None)
    graph = injected[0]
    ours, theirs = _compare(graph)
    assume(theirs is not None)
    if defect.__name__ == "loop_exit_looped_back":
        # A livelock: the oracle has no notion of it (option to complete only looks for
        # dead states); both see the activities after the loop as dead.
        assert theirs["option_to_complete"] and ours["option_to_complete"]
        assert {k: v for k, v in ours.items()} == theirs
        return
    if not theirs["safeness"] and ours["safeness"] is False:
        theirs["proper_completion"] = ours["proper_completion"]  # one defect, two names
    if not theirs["proper_completion"] and not ours["proper_completion"]:
        theirs["safeness"] = ours["safeness"]
    assert ours == theirs, (tree, defect.__name__)
