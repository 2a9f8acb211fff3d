"""Findings: what the parser, compiler and validator have to say about a BPMN file.

Like Django's system checks, problems are returned as values with a stable code, the BPMN
element id (so the designer can mark the shape) and a hint, instead of being raised. The
codes below are a public contract: tests, the REST API and the designer key on them, so a
code is never reused for a different meaning.

========== ===========================================================================
code       meaning
========== ===========================================================================
bpmn.E001  not well-formed XML (or not text at all)
bpmn.E002  DOCTYPE / DTD / entity declarations are refused (XXE, entity expansion)
bpmn.E003  file larger than the size limit
bpmn.E004  elements nested deeper than the depth limit, or too many elements
bpmn.E005  not a BPMN 2.0 ``definitions`` document
bpmn.E006  no process to compile (none in the file, or the requested id is missing)
bpmn.E010  element type the engine does not support (named by id and type)
bpmn.E011  process or sub-process without a usable start event
bpmn.E012  sequence flow whose source or target does not exist
bpmn.E013  node without an incoming flow
bpmn.E014  node without an outgoing flow
bpmn.E015  exclusive/inclusive split with an unconditioned non-default flow
bpmn.E016  gateway that neither splits nor joins (or event-based with < 2 targets)
bpmn.E017  default flow that is not an outgoing flow of its element
bpmn.E018  invalid expression or script line
bpmn.E019  invalid timer definition
bpmn.E020  user task nobody can work on (no assignee, candidates or lane)
bpmn.E021  service/send task without a complete connector
bpmn.E022  call activity without ``calledElement``
bpmn.E023  compensation handler or compensation boundary event not wired
bpmn.E024  message event/task without a message
bpmn.E025  error end event without an error
bpmn.E026  form field problem (missing key, unknown type, enum without choices, duplicate)
bpmn.E027  event-based gateway target that is not a catch event or receive task
bpmn.E028  boundary event not attached to an activity of the same scope
bpmn.E029  reference to an undefined message, error, signal or activity
bpmn.E030  duplicate element id
bpmn.E031  invalid attribute value (priority, retries, durations, due date...)
bpmn.E032  signal event without a signal
bpmn.E033  sequence flow crossing a sub-process boundary
bpmn.E034  flow where BPMN forbids one (into a start, out of an end, on a handler)
bpmn.E035  multi-instance without a cardinality or a collection
bpmn.E036  script task in a language other than Flowyard expressions
bpmn.W001  other process in the file was not compiled
bpmn.W002  Camunda attribute or expression converted on import
bpmn.W003  call activity to a process key that is not deployed
bpmn.W004  gateway that both splits and joins
bpmn.W005  process is not marked executable
bpmn.W006  unknown Flowyard attribute or extension element (typo?)
bpmn.W007  condition that is never evaluated (default flow, parallel/event-based split)
bpmn.W008  connector that is not built in (must be registered at runtime)
bpmn.W009  more than one none start event in a scope
bpmn.W010  message flows between pools are not executed
bpmn.I001  element ignored because it carries no execution semantics
bpmn.I002  lane name used as candidate group
========== ===========================================================================
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]

_CODE_RE = re.compile(r"^bpmn\.(E|W|I)\d{3}$")
_SEVERITY_BY_LETTER = {"E": "error", "W": "warning", "I": "info"}


def _documented_codes() -> frozenset[str]:
    return frozenset(re.findall(r"^(bpmn\.[EWI]\d{3})\s", __doc__ or "", re.MULTILINE))


CODES = _documented_codes()


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    element: str | None
    message: str
    hint: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f" [{self.element}]" if self.element else ""
        return f"{self.code} {self.severity}{where}: {self.message}"


def finding(code: str, element: str | None, message: str, hint: str = "") -> Finding:
    """Build a Finding whose severity follows from the code's letter (E/W/I)."""
    match = _CODE_RE.match(code)
    if not match or code not in CODES:
        raise ValueError(f"undocumented finding code {code!r}")
    return Finding(code, _SEVERITY_BY_LETTER[match.group(1)], element, message, hint)


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


class BpmnError(ValueError):
    """The input cannot be read as BPMN at all; ``findings`` says why (all errors)."""

    def __init__(self, findings: list[Finding]):
        self.findings = list(findings)
        super().__init__("; ".join(f.message for f in self.findings) or "invalid BPMN")
