"""The one entry point deploy, import and the designer call: XML in, graph + findings out.

Parsing, choosing the process, compiling and validating are separate modules; this one
only runs them in order and decides that a graph exists only when nothing is an error,
so no caller can store a half-valid graph by forgetting to check.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from .compiler import compile_process, duplicate_ids
from .definitions import read_root_elements, select_process
from .findings import BpmnError, Finding, has_errors
from .parser import MAX_BYTES, parse_bpmn
from .validation import validate_graph
from .xmlns import attr, bpmn_children

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class CompileResult:
    graph: dict | None
    findings: list[Finding] = field(default_factory=list)
    process_id: str | None = None
    process_name: str | None = None

    @property
    def ok(self) -> bool:
        return self.graph is not None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


def compile_bpmn(
    xml: bytes | str | BinaryIO,
    *,
    process_id: str | None = None,
    known_process_keys: Iterable[str] | None = None,
    max_bytes: int = MAX_BYTES,
) -> CompileResult:
    """Compile one process of a BPMN file. ``graph`` is None when any finding is an error;
    ``known_process_keys`` (deployed keys) turns unknown call targets into warnings."""
    try:
        root = parse_bpmn(xml, max_bytes=max_bytes)
    except BpmnError as exc:
        return CompileResult(None, exc.findings)
    process, findings = select_process(root, process_id=process_id)
    if process is None:
        return CompileResult(None, findings)
    compiled = compile_process(process, read_root_elements(root))
    findings += duplicate_ids(root) + compiled.findings
    if known_process_keys is not None:  # a process may call itself (recursion)
        known_process_keys = {*known_process_keys, compiled.graph["process"]["id"]}
    findings += validate_graph(compiled.graph, known_process_keys=known_process_keys, opaque=compiled.opaque)
    findings = _dedupe(findings)
    info = compiled.graph["process"]
    name = info["name"] or _participant_name(root, info["id"]) or info["id"]
    graph = None if has_errors(findings) else compiled.graph
    return CompileResult(graph, findings, info["id"], name)


def _participant_name(root, pid: str) -> str | None:
    for collaboration in bpmn_children(root, "collaboration"):
        for participant in bpmn_children(collaboration, "participant"):
            if attr(participant, "processRef") == pid and attr(participant, "name"):
                return attr(participant, "name")
    return None


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop exact repeats; order errors first, then warnings, then infos, stably."""
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda f: _SEVERITY_ORDER[f.severity])
