"""Event definitions -> the ``event`` dict of a compiled node.

References (messageRef, errorRef, signalRef) are resolved here to the names and codes the
engine correlates on, so a missing or dangling reference is reported against the event
that holds it. Which definitions may sit on which event follows DESIGN.md's "Must" list;
anything else is unsupported and reported, never dropped.
"""
from __future__ import annotations

from lxml import etree

from .definitions import RootElements
from .findings import Finding, finding
from .xmlns import FLOWYARD, attr, bpmn_children, child_text, is_bpmn, local_name

KINDS = {
    "timerEventDefinition": "timer",
    "messageEventDefinition": "message",
    "signalEventDefinition": "signal",
    "errorEventDefinition": "error",
    "terminateEventDefinition": "terminate",
    "compensateEventDefinition": "compensate",
}

ALLOWED = {
    "startEvent": {"none", "timer", "message"},
    "endEvent": {"none", "terminate", "error", "message", "signal", "compensate"},
    "intermediateCatchEvent": {"timer", "message", "signal"},
    "intermediateThrowEvent": {"none", "message", "signal", "compensate"},
    "boundaryEvent": {"timer", "error", "message", "signal", "compensate"},
}

_TIMER_TYPES = (("timeDuration", "duration"), ("timeDate", "date"), ("timeCycle", "cycle"))


def _definitions(el: etree._Element, roots: RootElements) -> list[etree._Element]:
    defs = [c for c in el if is_bpmn(c) and local_name(c).endswith("EventDefinition")]
    for ref in bpmn_children(el, "eventDefinitionRef"):
        target = roots.event_definitions.get((ref.text or "").strip())
        if target is not None:
            defs.append(target)
    return defs


def compile_event(
    el: etree._Element, node_type: str, roots: RootElements, *, in_sub_process: bool = False,
) -> tuple[dict | None, list[Finding], bool]:
    """Return (event dict or None for a none-event, findings, supported?)."""
    eid = attr(el, "id")
    defs = _definitions(el, roots)
    if len(defs) > 1:
        kinds = ", ".join(local_name(d) for d in defs)
        return None, [finding("bpmn.E010", eid, f"unsupported: multiple event definitions ({kinds}) on {node_type} {eid!r}",
                              "use one event definition per event")], False
    tag = local_name(defs[0]) if defs else None
    kind = KINDS.get(tag, "unsupported") if tag else "none"
    if kind == "unsupported" or kind not in ALLOWED[node_type] or (
        in_sub_process and node_type == "startEvent" and kind != "none"
    ):
        what = f"{tag} on {node_type}" if tag else f"{node_type} without an event definition"
        where = " inside a sub-process" if in_sub_process and node_type == "startEvent" else ""
        return None, [finding("bpmn.E010", eid, f"unsupported: {what}{where} {eid!r}",
                              "Flowyard runs the events listed in DESIGN.md's BPMN coverage")], False
    if kind == "none":
        return None, [], True
    return _compile_kind(kind, defs[0], el, node_type, roots)


def _compile_kind(kind, definition, el, node_type, roots) -> tuple[dict, list[Finding], bool]:
    eid = attr(el, "id")
    findings: list[Finding] = []
    if kind == "timer":
        for child, timer_type in _TIMER_TYPES:
            text = child_text(definition, child)
            if text is not None:
                return {"kind": "timer", "timer": {"type": timer_type, "value": text}}, findings, True
        return {"kind": "timer", "timer": {"type": "duration", "value": None}}, findings, True
    if kind == "message":
        name = resolve_message(el, attr(definition, "messageRef"), roots, findings, what=node_type)
        return {"kind": "message", "message": name,
                "correlation_key": attr(el, "correlationKey", FLOWYARD)}, findings, True
    if kind == "signal":
        ref = attr(definition, "signalRef")
        name = roots.signals.get(ref) if ref else None
        if not ref:
            findings.append(finding("bpmn.E032", eid, f"signal {node_type} {eid!r} names no signal",
                                    "pick or create a signal in the event's properties"))
        elif name is None:
            findings.append(_undefined("signal", ref, eid))
        return {"kind": "signal", "signal": name}, findings, True
    if kind == "error":
        ref = attr(definition, "errorRef")
        code = None
        if ref and ref in roots.errors:
            error = roots.errors[ref]
            code = error["code"] or error["name"] or ref
        elif ref:
            findings.append(_undefined("error", ref, eid))
        elif node_type == "endEvent":
            findings.append(finding("bpmn.E025", eid, f"error end event {eid!r} names no error",
                                    "pick or create an error (with an error code) in the event's properties"))
        return {"kind": "error", "error_code": code}, findings, True
    if kind == "terminate":
        return {"kind": "terminate"}, findings, True
    return {"kind": "compensate", "activity": attr(definition, "activityRef")}, findings, True


def resolve_message(el, ref: str | None, roots: RootElements, findings: list[Finding], *, what: str) -> str | None:
    """Message name for ``ref``; appends E024 (no ref) or E029 (unknown ref) to findings."""
    eid = attr(el, "id")
    if not ref:
        findings.append(finding("bpmn.E024", eid, f"message {what} {eid!r} names no message",
                                "pick or create a message in the element's properties"))
        return None
    if ref not in roots.messages:
        findings.append(_undefined("message", ref, eid))
        return None
    return roots.messages[ref]


def _undefined(kind: str, ref: str, eid: str | None) -> Finding:
    return finding("bpmn.E029", eid, f"{eid!r} refers to {kind} {ref!r}, which is not defined in the file",
                   f"define <bpmn:{kind} id=\"{ref}\"> at the top level of the file or pick another {kind}")
