"""designer.soundness: one minimal BPMN per defect kind that triggers it, and a sound twin."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from designer.bpmn import compile_bpmn
from designer.soundness import CODES, check, sound_finding

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
USER = '<bpmn:userTask id="{0}" flowyard:assignee="amy"/>'
SERVICE = ('<bpmn:serviceTask id="{0}" flowyard:connector="python" '
           'flowyard:handler="shop.handlers.echo"/>')
ERROR = '<bpmn:error id="Err" errorCode="E42"/>'


def _graph(bpmn, body: str, roots: str = "") -> dict:
    result = bpmn.compile(body, roots)
    assert result.ok, result.errors
    return result.graph


def _found(report) -> set[tuple[str, str | None]]:
    return {(f.code, f.element) for f in report.findings}


def _split_join(bpmn, split: str, join: str, *, cond: bool) -> str:
    c1, c2 = ("x &gt; 1", "x &lt;= 1") if cond else (None, None)
    return ('<bpmn:startEvent id="s"/>' + f'<bpmn:{split} id="split"/>' + USER.format("a")
            + USER.format("b") + f'<bpmn:{join} id="join"/>' + '<bpmn:endEvent id="e"/>'
            + bpmn.flow("s", "split") + bpmn.flow("split", "a", c1) + bpmn.flow("split", "b", c2)
            + bpmn.flows("a", "join") + bpmn.flows("b", "join") + bpmn.flows("join", "e"))


# -- deadlock ---------------------------------------------------------------------------

def test_exclusive_split_closed_by_a_parallel_join_can_never_complete(bpmn):
    report = check(_graph(bpmn, _split_join(bpmn, "exclusiveGateway", "parallelGateway", cond=True)))
    assert report.complete
    assert ("sound.E001", "join") in _found(report)
    [error] = [f for f in report.findings if f.code == "sound.E001"]
    assert error.severity == "error" and "deadlock" in error.message
    assert "start at s" in error.hint  # a witness run


def test_exclusive_split_closed_by_an_exclusive_join_is_sound(bpmn):
    report = check(_graph(bpmn, _split_join(bpmn, "exclusiveGateway", "exclusiveGateway", cond=True)))
    assert report.sound, report.findings


def test_inclusive_split_closed_by_a_parallel_join_deadlocks_in_some_runs(bpmn):
    report = check(_graph(bpmn, _split_join(bpmn, "inclusiveGateway", "parallelGateway", cond=True)))
    assert ("sound.W001", "join") in _found(report)
    assert not any(f.severity == "error" for f in report.findings)  # taking both flows completes


def test_inclusive_split_closed_by_an_inclusive_join_is_sound(bpmn):
    report = check(_graph(bpmn, _split_join(bpmn, "inclusiveGateway", "inclusiveGateway", cond=True)))
    assert report.sound, report.findings


# -- lack of synchronisation and improper completion --------------------------------------

def test_parallel_split_closed_by_an_exclusive_join_lacks_synchronisation(bpmn):
    report = check(_graph(bpmn, _split_join(bpmn, "parallelGateway", "exclusiveGateway", cond=False)))
    assert ("sound.W002", "join") in _found(report)
    assert ("sound.W003", "e") in _found(report)


def test_parallel_split_closed_by_a_parallel_join_is_sound(bpmn):
    report = check(_graph(bpmn, _split_join(bpmn, "parallelGateway", "parallelGateway", cond=False)))
    assert report.sound, report.findings


def _fork_to_ends(bpmn, shared: bool) -> str:
    ends = '<bpmn:endEvent id="e"/>' + ("" if shared else '<bpmn:endEvent id="e2"/>')
    return ('<bpmn:startEvent id="s"/><bpmn:parallelGateway id="split"/>' + USER.format("a")
            + USER.format("b") + ends + bpmn.flows("s", "split") + bpmn.flow("split", "a")
            + bpmn.flow("split", "b") + bpmn.flows("a", "e") + bpmn.flows("b", "e" if shared else "e2"))


def test_two_parallel_branches_ending_in_one_end_event_complete_improperly(bpmn):
    report = check(_graph(bpmn, _fork_to_ends(bpmn, shared=True)))
    assert _found(report) == {("sound.W003", "e")}


def test_two_parallel_branches_with_their_own_end_events_are_sound(bpmn):
    # The core ends the instance when its last token ends (implicit termination).
    assert check(_graph(bpmn, _fork_to_ends(bpmn, shared=False))).sound


def test_lack_of_synchronisation_inside_a_sub_process_names_the_inner_element(bpmn):
    inner = _split_join(bpmn, "parallelGateway", "exclusiveGateway", cond=False)
    for old, new in (('id="s"', 'id="is"'), ('"s"', '"is"'), ('id="e"', 'id="ie"'), ('"e"', '"ie"')):
        inner = inner.replace(old, new)
    inner = inner.replace("f_s_split", "f_is_split").replace("f_join_e", "f_join_ie")
    body = ('<bpmn:startEvent id="s"/><bpmn:subProcess id="sp">' + inner
            + '</bpmn:subProcess><bpmn:endEvent id="e"/>' + bpmn.flows("s", "sp", "e"))
    report = check(_graph(bpmn, body))
    assert ("sound.W002", "join") in _found(report)
    assert ("sound.W003", "e") not in _found(report)  # the sub-process completes once


# -- livelock -----------------------------------------------------------------------------

def _loop(bpmn, exit_: bool) -> str:
    back = bpmn.flow("x", "b", "again") if not exit_ else bpmn.flow("x", "e", "done")
    return ('<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="m"/>' + USER.format("a")
            + '<bpmn:exclusiveGateway id="x"/>' + ('' if exit_ else '<bpmn:task id="b"/>')
            + '<bpmn:endEvent id="e"/>'
            + bpmn.flows("s", "m", "a", "x") + bpmn.flow("x", "m", "retry") + back
            + (bpmn.flows("b", "m") if not exit_ else ""))


def test_loop_without_a_way_out_is_a_livelock_named_at_its_decision(bpmn):
    body = _loop(bpmn, exit_=False).replace('<bpmn:endEvent id="e"/>', "")
    report = check(_graph(bpmn, body))
    [livelock] = [f for f in report.findings if f.code == "sound.W004"]
    assert livelock.element == "x" and "no run of the process can complete" in livelock.message
    assert "a, b, m, x" in livelock.message


def test_loop_with_an_exit_is_sound(bpmn):
    assert check(_graph(bpmn, _loop(bpmn, exit_=True))).sound


# -- dead elements ------------------------------------------------------------------------

def _error_boundary(bpmn, host: str) -> str:
    return ('<bpmn:startEvent id="s"/>' + host.format("t") + '<bpmn:endEvent id="e"/>'
            + '<bpmn:boundaryEvent id="oops" attachedToRef="t"><bpmn:errorEventDefinition errorRef="Err"/>'
            + '</bpmn:boundaryEvent><bpmn:task id="fix"/><bpmn:endEvent id="e2"/>'
            + bpmn.flows("s", "t", "e") + bpmn.flows("oops", "fix", "e2"))


def test_error_boundary_on_a_user_task_is_dead_because_nothing_throws_there(bpmn):
    report = check(_graph(bpmn, _error_boundary(bpmn, USER), ERROR))
    [dead] = [f for f in report.findings if f.code == "sound.W005"]
    assert dead.element == "oops" and "fix, e2" in dead.message


def test_error_boundary_on_a_service_task_is_reached_when_the_call_fails(bpmn):
    assert check(_graph(bpmn, _error_boundary(bpmn, SERVICE), ERROR)).sound


def test_nodes_after_a_join_that_never_fires_are_dead(bpmn):
    body = _split_join(bpmn, "exclusiveGateway", "parallelGateway", cond=True)
    body = body.replace(bpmn.flows("join", "e"), bpmn.flows("join", "after", "e"))
    body = body.replace('<bpmn:endEvent id="e"/>', '<bpmn:task id="after"/><bpmn:endEvent id="e"/>')
    report = check(_graph(bpmn, body))
    assert ("sound.W005", "after") in _found(report)


# -- events, scopes and the rest of the engine's vocabulary ----------------------------

def test_timer_and_message_boundaries_and_terminate_are_sound(bpmn):
    body = ('<bpmn:startEvent id="s"/><bpmn:parallelGateway id="split"/>' + USER.format("a")
            + '<bpmn:boundaryEvent id="late" attachedToRef="a"><bpmn:timerEventDefinition>'
            '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
            '<bpmn:boundaryEvent id="ping" attachedToRef="a" cancelActivity="false">'
            '<bpmn:messageEventDefinition messageRef="M"/></bpmn:boundaryEvent>'
            '<bpmn:endEvent id="e_late"/><bpmn:endEvent id="e_ping"/><bpmn:endEvent id="e"/>'
            + USER.format("b") + '<bpmn:endEvent id="kill"><bpmn:terminateEventDefinition/></bpmn:endEvent>'
            + bpmn.flows("s", "split") + bpmn.flow("split", "a") + bpmn.flow("split", "b")
            + bpmn.flows("a", "e") + bpmn.flows("late", "e_late") + bpmn.flows("ping", "e_ping")
            + bpmn.flows("b", "kill"))
    report = check(_graph(bpmn, body, '<bpmn:message id="M" name="ping"/>'))
    assert report.sound, report.findings


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.bpmn")))
def test_every_demo_fixture_is_sound(name):
    result = compile_bpmn((DATA / name).read_bytes())
    assert result.ok, result.errors
    report = check(result.graph)
    assert report.complete and report.findings == [], report.findings


# -- bounds, codes, purity ----------------------------------------------------------------

def test_hitting_the_state_bound_says_not_fully_verified(bpmn):
    graph = _graph(bpmn, _split_join(bpmn, "parallelGateway", "parallelGateway", cond=False))
    report = check(graph, max_states=2)
    assert not report.complete and report.states_explored == 2
    [bound] = [f for f in report.findings if f.code == "sound.W006"]
    assert "not fully verified" in bound.message and "max_states" in bound.message
    assert bound.element == "p"


def test_hitting_the_time_budget_says_not_fully_verified(bpmn):
    graph = _graph(bpmn, _split_join(bpmn, "parallelGateway", "parallelGateway", cond=False))
    report = check(graph, time_budget=0)
    assert not report.complete
    assert [f.code for f in report.findings] == ["sound.W006"]
    assert "time_budget" in report.findings[0].message


def test_codes_are_documented_and_undocumented_ones_refused():
    assert {"sound.E001", "sound.W001", "sound.W002", "sound.W003", "sound.W004", "sound.W005",
            "sound.W006", "sound.W007"} <= CODES
    assert sound_finding("sound.E001", "j", "m").severity == "error"
    assert sound_finding("sound.W002", "j", "m").severity == "warning"
    with pytest.raises(ValueError):
        sound_finding("sound.W999", "j", "m")


def test_the_checker_loads_no_django():
    code = (
        "import sys, designer.soundness as s, designer.bpmn as b\n"
        "g = b.compile_bpmn(open('tests/data/parallel_review.bpmn', 'rb').read()).graph\n"
        "assert s.check(g).sound\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'celery', 'channels'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_modules_stay_small():
    for module in (ROOT / "designer" / "soundness").glob("*.py"):
        assert len(module.read_text().splitlines()) <= 400, module.name
