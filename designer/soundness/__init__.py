"""Soundness analysis: does every run of a process finish cleanly, whatever the data?

The control flow is treated as a workflow net and its state space explored by driving the
engine core itself (``runtime.engine.stepwise``) over a data-free skeleton of the compiled
graph (``abstraction``): every condition may go either way, events come in any order,
tokens move in any interleaving. States are compared by a canonical form without ids or
data (``canonical``); the search is bounded (``explorer``); the verdicts name elements
(``verdicts``; codes in ``codes``). Pure Python: no Django import, so deploy, the designer,
bench/ and tests all call ``check`` directly::

    report = check(result.graph)              # a compiled graph dict
    report.findings, report.states_explored, report.complete
"""
from __future__ import annotations

from dataclasses import dataclass, field

from designer.bpmn.findings import Finding
from runtime.engine.graph import Graph

from .abstraction import skeleton
from .codes import CODES, sound_finding
from .explorer import explore
from .verdicts import findings_for

DEFAULT_MAX_STATES = 50_000
DEFAULT_TIME_BUDGET = 3.0


@dataclass(frozen=True)
class SoundnessReport:
    findings: list[Finding] = field(default_factory=list)
    states_explored: int = 0
    complete: bool = True
    seconds: float = 0.0

    @property
    def sound(self) -> bool:
        """Fully explored and nothing found."""
        return self.complete and not self.findings


def check(graph: dict, *, max_states: int = DEFAULT_MAX_STATES,
          time_budget: float = DEFAULT_TIME_BUDGET) -> SoundnessReport:
    """Explore ``graph`` (a compiled-graph dict, docs/compiled-graph.md) and report.

    Stops after ``max_states`` distinct states or ``time_budget`` seconds; ``complete`` is
    then False and the findings carry ``sound.W006`` (not fully verified).
    """
    original = Graph.from_dict(graph)
    space = explore(Graph.from_dict(skeleton(graph)), max_states=max_states,
                    time_budget=time_budget)
    return SoundnessReport(findings_for(space, original), len(space.states), space.complete,
                           space.elapsed)


__all__ = ["CODES", "DEFAULT_MAX_STATES", "DEFAULT_TIME_BUDGET", "SoundnessReport", "check",
           "sound_finding"]
