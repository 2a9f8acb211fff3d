"""The Flowyard extension (and the cheap part of Camunda 7's) -> node properties.

Everything read here is copied as written: VALUE attributes keep their leading ``=`` so
the engine decides at run time whether they are literals or expressions, and the
validator can check each one against its element. Camunda 7 attributes are accepted only
where Flowyard has the same concept, with a warning so nobody assumes full compatibility.
"""
from __future__ import annotations

import re

from lxml import etree

from .findings import Finding, finding
from .xmlns import BPMN, CAMUNDA, FLOWYARD, attr, bpmn_child, child_text, extension_children, local_name, namespace

USER_TASK_ATTRS = ("assignee", "candidateGroups", "candidateUsers", "dueDate", "priority")
CONNECTOR_ATTRS = ("connector", "handler", "resultVariable", "retries", "retryBackoff", "retryBackoffCoefficient",
                   "retryMaxInterval", "timeout")
MI_ATTRS = ("collection", "elementVariable")
DEFAULT_RETRIES = 3
DEFAULT_RETRY_BACKOFF = "PT1S"
DEFAULT_TIMEOUT = "PT30S"

_JUEL = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.DOTALL)
_SCRIPT_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\s*=(?!=)\s*(.*)$")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def camunda_value(value: str) -> str:
    """Camunda's ``${expr}`` becomes Flowyard's ``=expr``; literals stay literals."""
    match = _JUEL.match(value)
    return "=" + match.group(1).strip() if match else value


def _camunda_fallback(el, names, findings: list[Finding]) -> dict[str, str | None]:
    """Flowyard attribute values, falling back to same-named camunda:* ones (with W002)."""
    values: dict[str, str | None] = {}
    converted = []
    for name in names:
        value = attr(el, name, FLOWYARD)
        if value is None and attr(el, name, CAMUNDA) is not None:
            value = camunda_value(attr(el, name, CAMUNDA))
            converted.append(f"camunda:{name}")
        values[name] = value
    if converted:
        findings.append(finding(
            "bpmn.W002", attr(el, "id"), f"imported Camunda attributes {', '.join(converted)}",
            "check the converted values; save the model from the Flowyard designer to store them as flowyard:*",
        ))
    return values


def read_io(el: etree._Element) -> tuple[list[dict], list[dict], list[Finding]]:
    """``flowyard:input``/``flowyard:output`` mappings, in document order."""
    found: dict[str, list[dict]] = {"input": [], "output": []}
    findings: list[Finding] = []
    for kind in found:
        for child in extension_children(el, FLOWYARD, kind):
            name = (attr(child, "name") or "").strip()
            if not _IDENTIFIER.match(name):
                findings.append(finding("bpmn.E031", attr(el, "id"), f"{kind} mapping name {name!r} is not a variable name",
                                        "use letters, digits and '_', starting with a letter"))
            found[kind].append({"name": name, "expr": attr(child, "expr") or ""})
    return found["input"], found["output"], findings


def read_multi_instance(el: etree._Element) -> tuple[dict | None, list[Finding]]:
    loop = bpmn_child(el, "multiInstanceLoopCharacteristics")
    if loop is None:
        return None, []
    findings: list[Finding] = []
    values = {name: attr(loop, name, FLOWYARD) or attr(el, name, FLOWYARD) for name in MI_ATTRS}
    camunda = {name: attr(loop, name, CAMUNDA) for name in MI_ATTRS}
    if values["collection"] is None and camunda["collection"]:
        raw = camunda_value(camunda["collection"])
        values["collection"] = raw if raw.startswith("=") or not _IDENTIFIER.match(raw) else "=" + raw
        values["elementVariable"] = values["elementVariable"] or camunda["elementVariable"]
        findings.append(finding("bpmn.W002", attr(el, "id"), "imported camunda:collection/elementVariable",
                                "check the converted multi-instance collection"))
    return {
        "sequential": (attr(loop, "isSequential") or "").strip().lower() == "true",
        "cardinality": child_text(loop, "loopCardinality"),
        "collection": values["collection"],
        "element_variable": values["elementVariable"],
        "completion_condition": child_text(loop, "completionCondition"),
    }, findings


def read_user_task(el: etree._Element, lane: str | None) -> tuple[dict, list[Finding]]:
    findings: list[Finding] = []
    values = _camunda_fallback(el, USER_TASK_ATTRS, findings)
    if not any(values[k] for k in ("assignee", "candidateGroups", "candidateUsers")) and lane:
        values["candidateGroups"] = lane
        findings.append(finding("bpmn.I002", attr(el, "id"), f"lane {lane!r} is the candidate group",
                                "set candidate groups on the task to override the lane"))
    return {
        "assignee": values["assignee"] or None,
        "candidate_groups": values["candidateGroups"] or None,
        "candidate_users": values["candidateUsers"] or None,
        "due_date": values["dueDate"] or None,
        "priority": values["priority"] or None,
        "form": read_form(el),
    }, findings


def read_form(el: etree._Element) -> list[dict]:
    fields = []
    for child in extension_children(el, FLOWYARD, "formField"):
        key = (attr(child, "key") or "").strip()
        choices = attr(child, "choices")
        fields.append({
            "key": key,
            "label": attr(child, "label") or key,
            "type": (attr(child, "type") or "string").strip(),
            "required": (attr(child, "required") or "").strip().lower() == "true",
            "choices": [c.strip() for c in choices.split(",") if c.strip()] if choices is not None else None,
            "default": attr(child, "default"),
            "help": attr(child, "help"),
        })
    return fields


def read_connector(el: etree._Element) -> tuple[dict | None, list[Finding]]:
    """Connector props of a service/send task, or None when it names no connector at all."""
    findings: list[Finding] = []
    connector = attr(el, "connector", FLOWYARD)
    if connector is None:
        return None, findings
    http_el = next(iter(extension_children(el, FLOWYARD, "http")), None)
    http = None
    if http_el is not None:
        http = {
            "method": (attr(http_el, "method") or "POST").strip().upper(),
            "url": attr(http_el, "url"),
            "headers": attr(http_el, "headers"),
            "body": attr(http_el, "body"),
        }
    retries_text = attr(el, "retries", FLOWYARD)
    retries = DEFAULT_RETRIES
    if retries_text is not None:
        try:
            retries = int(retries_text.strip())
            if retries < 0:
                raise ValueError
        except ValueError:
            findings.append(finding("bpmn.E031", attr(el, "id"), f"retries {retries_text!r} is not a whole number >= 0",
                                    "retries=\"3\" means up to 3 retries after the first attempt"))
    coefficient_text = attr(el, "retryBackoffCoefficient", FLOWYARD)
    coefficient = None
    if coefficient_text is not None:
        try:
            coefficient = float(coefficient_text.strip())
            if not 1.0 <= coefficient <= 100.0:
                raise ValueError
        except ValueError:
            coefficient = None
            findings.append(finding("bpmn.E031", attr(el, "id"),
                                    f"retryBackoffCoefficient {coefficient_text!r} is not a number from 1 to 100",
                                    "each retry waits this many times longer than the one before, e.g. \"2\""))
    return {
        "connector": connector.strip(),
        "http": http,
        "handler": attr(el, "handler", FLOWYARD),
        "result_variable": attr(el, "resultVariable", FLOWYARD),
        "retries": retries,
        "retry_backoff": attr(el, "retryBackoff", FLOWYARD) or DEFAULT_RETRY_BACKOFF,
        "backoff_coefficient": coefficient,
        "max_interval": attr(el, "retryMaxInterval", FLOWYARD),
        "timeout": attr(el, "timeout", FLOWYARD) or DEFAULT_TIMEOUT,
    }, findings


def empty_connector() -> dict:
    """Connector props of a service task that names none (validation reports it)."""
    return {"connector": None, "http": None, "handler": None, "result_variable": None, "retries": DEFAULT_RETRIES,
            "retry_backoff": DEFAULT_RETRY_BACKOFF, "backoff_coefficient": None, "max_interval": None,
            "timeout": DEFAULT_TIMEOUT}


def read_script(el: etree._Element) -> tuple[dict, list[Finding]]:
    """``<bpmn:script>``: one ``name = expression`` per line; blanks and '#' lines skipped."""
    eid = attr(el, "id")
    findings: list[Finding] = []
    fmt = (attr(el, "scriptFormat") or "").strip().lower()
    if fmt not in ("", "flowyard", "python", "text/x-python", "application/x-python"):
        findings.append(finding("bpmn.E036", eid, f"script format {fmt!r} is not supported",
                                "write one 'name = expression' per line and leave the format empty"))
        return {"script": []}, findings
    lines = []
    for number, line in enumerate((child_text(el, "script") or "").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = _SCRIPT_LINE.match(text)
        if not match:
            findings.append(finding("bpmn.E018", eid, f"script line {number} is not 'name = expression': {text!r}",
                                    "write one assignment per line, e.g. total = price * quantity"))
            continue
        lines.append({"name": match.group(1), "expr": match.group(2).strip()})
    return {"script": lines}, findings


def unknown_extensions(el: etree._Element, *, attrs: set[str], children: set[str]) -> list[Finding]:
    """W006 for flowyard:* attributes and child elements this element type does not use."""
    eid = attr(el, "id")
    odd = [f"flowyard:{name.rpartition('}')[2]}" for name in el.attrib
           if name.startswith(f"{{{FLOWYARD}}}") and name.rpartition("}")[2] not in attrs]
    odd += [f"<flowyard:{local_name(c)}>" for c in extension_children(el, FLOWYARD) if local_name(c) not in children]
    odd += [f"<flowyard:{local_name(c)}>" for c in el if namespace(c) == FLOWYARD]
    if not odd:
        return []
    return [finding("bpmn.W006", eid, f"{', '.join(odd)} not used on {local_name(el)} {eid!r}",
                    "check the spelling against DESIGN.md's extension table; "
                    "Flowyard elements belong inside <bpmn:extensionElements>")]


def is_bpmn_loop(el: etree._Element) -> bool:
    return any(namespace(c) == BPMN and local_name(c) == "standardLoopCharacteristics" for c in el)
