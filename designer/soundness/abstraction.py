"""The control-flow skeleton the checker explores: the compiled graph with its data taken out.

Soundness is a property of the control flow, so the checker runs the engine on a copy of
the graph whose every data-dependent part is replaced by something the checker decides:

- every sequence-flow condition and multi-instance completion condition becomes the
  marker ``CHOICE``: each time the engine evaluates one, the checker answers true *and*
  false in two separate successors. The core evaluates conditions in flow order (an
  exclusive gateway stops at the first true one, an inclusive one evaluates all, the
  default flow is taken when none holds), so answering each evaluation independently
  yields exactly "any one flow" for exclusive and "any non-empty subset" for inclusive
  gateways, derived from the engine's own code rather than restated here;
- a multi-instance activity always runs ``MI_INSTANCES`` instances (marker
  ``CARDINALITY``); its collection, element variable and counters carry no data. An
  empty collection (zero instances) is not explored: the activity then behaves like a
  task, which the explored runs already cover for everything outside it;
- timers become literal durations (all timers may fire in any order: time is abstracted),
  cycles keep at most ``MAX_CYCLE`` occurrences (more only repeats the same boundary path);
- scripts, inputs, outputs, task assignments, forms, HTTP requests, result variables and
  correlation keys are removed: they compute data, never which flow a token takes.

Nothing here evaluates an expression; ``Chooser`` is the ``evaluate`` hook handed to
``runtime.engine.stepwise`` and replays one sequence of true/false answers.
"""
from __future__ import annotations

import copy
import re
from typing import Any

CHOICE = "sound_choice"
CARDINALITY = "sound_cardinality"
MI_INSTANCES = 2
MAX_CYCLE = 1
TIMER_STEP = "PT1H"

_CYCLE_COUNT = re.compile(r"^R(\d*)/")


def skeleton(graph: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``graph`` (compiled-graph dict) with data replaced as the module says."""
    out = copy.deepcopy(graph)
    for flow in out.get("flows", {}).values():
        if flow.get("condition") is not None:
            flow["condition"] = CHOICE
    for node in out.get("nodes", {}).values():
        node["inputs"] = []
        node["outputs"] = []
        node["event"] = _event(node.get("event"))
        node["props"] = _props(node)
        spec = node.get("multi_instance")
        if spec:
            node["multi_instance"] = {
                "sequential": bool(spec.get("sequential")), "cardinality": CARDINALITY,
                "collection": None, "element_variable": None,
                "completion_condition": CHOICE if spec.get("completion_condition") else None,
            }
    return out


def _event(event: dict | None) -> dict | None:
    if not event:
        return event
    event = dict(event)
    kind = event.get("kind")
    if kind == "timer":
        timer = event.get("timer") or {}
        if timer.get("type") == "cycle":
            match = _CYCLE_COUNT.match(str(timer.get("value") or ""))
            count = int(match.group(1)) if match and match.group(1) else MAX_CYCLE
            value = f"R{max(1, min(count, MAX_CYCLE))}/{TIMER_STEP}"
            event["timer"] = {"type": "cycle", "value": value}
        else:
            event["timer"] = {"type": "duration", "value": TIMER_STEP}
    elif kind == "message":
        event["correlation_key"] = None
    return event


def _props(node: dict) -> dict:
    props = dict(node.get("props") or {})
    kind = node["type"]
    if kind == "scriptTask":
        return {"script": []}
    if kind == "userTask":
        return {"assignee": "soundness", "candidate_groups": None, "candidate_users": None,
                "due_date": None, "priority": None, "form": []}
    if kind in ("serviceTask", "sendTask"):
        props.update(http=None, result_variable=None, correlation_key=None)
        if props.get("connector"):
            props["connector"] = "soundness"
        return props
    if kind == "receiveTask":
        props["correlation_key"] = None
    return props


class Chooser:
    """The ``evaluate`` hook for one micro-step: replays ``script`` (a list of booleans),
    answering False once it runs out and recording each answer it made up."""

    def __init__(self, script: list[bool] | None = None):
        self.script = list(script or [])
        self.position = 0

    def __call__(self, source: str, node_id: str) -> Any:
        if source == CARDINALITY:
            return MI_INSTANCES
        if source != CHOICE:
            return None  # a data value the skeleton forgot to strip: carries no control flow
        if self.position == len(self.script):
            self.script.append(False)
        answer = self.script[self.position]
        self.position += 1
        return answer

    def next_script(self) -> list[bool] | None:
        """The next answer sequence in depth-first order, None when all were tried."""
        script = self.script[:self.position]
        while script and script[-1]:
            script.pop()
        if not script:
            return None
        script[-1] = True
        return script
