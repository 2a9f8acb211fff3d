"""Document-level pieces of a BPMN file: which process to compile, and the root elements
(messages, errors, signals) that events refer to by id.

A file from a modeler often holds a collaboration of several pools, each its own process;
Flowyard deploys one process per version, so exactly one is chosen and the others are
reported rather than merged or silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .findings import Finding, finding
from .xmlns import attr, bpmn_children, is_bpmn, local_name

FLOW_CONTAINERS = ("process", "subProcess", "transaction", "adHocSubProcess")


@dataclass(frozen=True)
class ProcessInfo:
    id: str
    name: str
    is_executable: bool
    has_content: bool


@dataclass
class RootElements:
    """Root elements by id: message names, errors, signal names, global event definitions."""

    messages: dict[str, str] = field(default_factory=dict)
    errors: dict[str, dict] = field(default_factory=dict)
    signals: dict[str, str] = field(default_factory=dict)
    event_definitions: dict[str, etree._Element] = field(default_factory=dict)


def _has_content(process: etree._Element) -> bool:
    return any(is_bpmn(c) and local_name(c) not in ("laneSet", "documentation", "extensionElements",
                                                   "property", "ioSpecification")
               for c in process)


def list_processes(root: etree._Element) -> list[ProcessInfo]:
    """The processes of a definitions element, in document order."""
    return [
        ProcessInfo(
            id=attr(p, "id") or "",
            name=attr(p, "name") or "",
            is_executable=(attr(p, "isExecutable") or "").strip().lower() == "true",
            has_content=_has_content(p),
        )
        for p in bpmn_children(root, "process")
    ]


def select_process(
    root: etree._Element, *, process_id: str | None = None,
) -> tuple[etree._Element | None, list[Finding]]:
    """Pick the process to compile: the requested one, else the first executable one,
    else the first with any content (with a warning that it is not marked executable)."""
    processes = bpmn_children(root, "process")
    infos = list_processes(root)
    findings: list[Finding] = []
    if not processes:
        return None, [finding("bpmn.E006", None, "the file contains no process",
                              "draw a process with a start event, tasks and an end event")]
    chosen = None
    if process_id is not None:
        chosen = next((i for i, info in enumerate(infos) if info.id == process_id), None)
        if chosen is None:
            known = ", ".join(repr(i.id) for i in infos)
            return None, [finding("bpmn.E006", None, f"no process with id {process_id!r} in the file",
                                  f"processes in this file: {known}")]
    else:
        for pick in (lambda i: i.is_executable and i.has_content, lambda i: i.has_content, lambda i: True):
            chosen = next((n for n, info in enumerate(infos) if pick(info)), None)
            if chosen is not None:
                break
    info = infos[chosen]
    if not info.is_executable:
        findings.append(finding(
            "bpmn.W005", info.id, f"process {info.id!r} is not marked executable; compiling it anyway",
            "set isExecutable=\"true\" on the process (the 'Executable' checkbox in the modeler)",
        ))
    for other in infos:
        if other is not info and other.has_content:
            findings.append(finding(
                "bpmn.W001", other.id,
                f"process {other.id!r} ({other.name or 'unnamed'}) in the same file is not compiled; "
                f"only {info.id!r} is deployed",
                "deploy each pool as its own file, or pick it explicitly",
            ))
    for collaboration in bpmn_children(root, "collaboration"):
        for flow in bpmn_children(collaboration, "messageFlow"):
            findings.append(finding(
                "bpmn.W010", attr(flow, "id"),
                "message flows between pools are not executed",
                "send a message with a send task or message throw event instead",
            ))
    return processes[chosen], findings


def read_root_elements(root: etree._Element) -> RootElements:
    out = RootElements()
    for el in root:
        if not is_bpmn(el) or not attr(el, "id"):
            continue
        eid, kind = attr(el, "id"), local_name(el)
        if kind == "message":
            out.messages[eid] = attr(el, "name") or eid
        elif kind == "error":
            out.errors[eid] = {"code": attr(el, "errorCode"), "name": attr(el, "name") or ""}
        elif kind == "signal":
            out.signals[eid] = attr(el, "name") or eid
        elif kind.endswith("EventDefinition"):
            out.event_definitions[eid] = el
    return out
