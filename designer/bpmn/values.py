"""Checks of the values inside compiled nodes: expressions, timers, durations, forms.

Every expression a process will ever evaluate is compiled here, at deploy, with the same
``compile_expression`` the engine uses, so a typo or a forbidden construct such as
``__import__("os")`` is reported against its element instead of failing an instance
weeks later.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator

import isodate

from runtime.engine.expressions import ExpressionError, compile_expression, is_expression_value

from .findings import Finding, finding

FORM_TYPES = ("string", "number", "boolean", "date", "enum")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_CYCLE = re.compile(r"^R(\d*)/(.+)$")


def expression_problem(source: str | None) -> str | None:
    try:
        compile_expression(source or "")
    except ExpressionError as exc:
        return str(exc)
    return None


def parse_duration(text: str) -> None:
    """Raise ValueError unless ``text`` is an ISO 8601 duration such as ``PT30S``."""
    try:
        isodate.parse_duration(text.strip())
    except (isodate.ISO8601Error, ValueError, TypeError) as exc:
        raise ValueError(f"{text!r} is not an ISO 8601 duration (e.g. PT30S, P2D)") from exc


def parse_moment(text: str) -> None:
    """Raise ValueError unless ``text`` is an ISO 8601 date or date-time."""
    text = text.strip()
    try:
        if "T" in text:
            isodate.parse_datetime(text)
        else:
            isodate.parse_date(text)
    except (isodate.ISO8601Error, ValueError, TypeError) as exc:
        raise ValueError(f"{text!r} is not an ISO 8601 date or date-time (e.g. 2030-01-31T09:00:00Z)") from exc


def timer_problem(timer: dict) -> str | None:
    """Why a timer's text is unusable, or None; expression values are checked elsewhere."""
    value, kind = timer.get("value"), timer.get("type")
    if not value:
        return "timer has no duration, date or cycle"
    if is_expression_value(value):
        return None
    try:
        if kind == "duration":
            parse_duration(value)
        elif kind == "date":
            parse_moment(value)
        else:
            match = _CYCLE.match(value.strip())
            if not match:
                return f"cycle {value!r} is not an ISO 8601 repetition such as R3/PT1H or R/PT1M"
            parts = match.group(2).split("/")
            if len(parts) > 2:
                return f"cycle {value!r} has too many parts; use Rn/PT1H or Rn/<start>/PT1H"
            if len(parts) == 2:
                parse_moment(parts[0])
            parse_duration(parts[-1])
    except ValueError as exc:
        return str(exc)
    return None


def node_expressions(node: dict) -> Iterator[tuple[str, str, bool]]:
    """(where, text, is_value) for every expression a node carries; VALUEs only matter
    when they start with '='."""
    for i, line in enumerate(node["props"].get("script") or (), start=1):
        yield f"script line {i} ({line['name']} = ...)", line["expr"], False
    for kind in ("inputs", "outputs"):
        for mapping in node[kind] or ():
            yield f"{kind[:-1]} {mapping['name']!r}", mapping["expr"], False
    mi = node["multi_instance"]
    if mi:
        for key in ("cardinality", "completion_condition"):
            if mi[key] is not None:
                yield f"multi-instance {key.replace('_', ' ')}", mi[key], False
        if mi["collection"] is not None:
            yield "multi-instance collection", mi["collection"], True
    props = node["props"]
    for key in ("assignee", "candidate_groups", "candidate_users", "due_date", "priority", "correlation_key"):
        if props.get(key) is not None:
            yield key.replace("_", " "), props[key], True
    for field in props.get("form") or ():
        if field.get("default") is not None:
            yield f"default of form field {field['key']!r}", field["default"], True
    for key, value in (props.get("http") or {}).items():
        if key != "method" and value is not None:
            yield f"http {key}", value, True
    event = node["event"] or {}
    if event.get("correlation_key") is not None:
        yield "correlation key", event["correlation_key"], True
    if event.get("kind") == "timer" and is_expression_value(event["timer"].get("value")):
        yield "timer", event["timer"]["value"], True


def check_node_values(node: dict) -> list[Finding]:
    nid, ntype = node["id"], node["type"]
    out: list[Finding] = []
    for where, text, is_value in node_expressions(node):
        if is_value and not is_expression_value(text):
            continue
        problem = expression_problem(text[1:] if is_value else text)
        if problem:
            out.append(finding("bpmn.E018", nid, f"{where} of {ntype} {nid!r}: {problem}",
                               "expressions are Python-style: names, literals, operators, and "
                               "calls of the allowed functions only"))
    event = node["event"] or {}
    if event.get("kind") == "timer":
        problem = timer_problem(event["timer"])
        if problem:
            out.append(finding("bpmn.E019", nid, f"timer of {ntype} {nid!r}: {problem}",
                               "durations look like PT15M or P2D, dates like 2030-01-31T09:00:00Z, cycles like R3/PT1H"))
    out += _attribute_problems(node)
    if ntype == "userTask":
        out += _form_problems(nid, node["props"].get("form") or [])
    return out


def _attribute_problems(node: dict) -> list[Finding]:
    nid, props, problems = node["id"], node["props"], []
    priority = props.get("priority")
    if priority is not None and not is_expression_value(priority):
        if not (priority.strip().isdigit() and 0 <= int(priority) <= 100):
            problems.append(f"priority {priority!r} is not a whole number from 0 to 100")
    due = props.get("due_date")
    if due is not None and not is_expression_value(due):
        try:
            parse_duration(due) if due.strip().startswith("P") else parse_moment(due)
        except ValueError as exc:
            problems.append(f"due date: {exc}")
    for key in ("retry_backoff", "max_interval", "timeout"):
        if props.get(key) is not None:
            try:
                parse_duration(props[key])
            except ValueError as exc:
                problems.append(f"{key.replace('_', ' ')}: {exc}")
    http = props.get("http") or {}
    if http and http["method"] not in HTTP_METHODS:
        problems.append(f"HTTP method {http['method']!r} is not one of {', '.join(HTTP_METHODS)}")
    headers = http.get("headers")
    if headers is not None and not is_expression_value(headers):
        try:
            parsed = json.loads(headers)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            problems.append("http headers must be a JSON object such as {\"Accept\": \"application/json\"}")
    if props.get("handler") and not _DOTTED.match(props["handler"]):
        problems.append(f"handler {props['handler']!r} is not a dotted path such as 'shop.handlers.reserve'")
    for key, value in (("result variable", props.get("result_variable")),
                       ("element variable", (node["multi_instance"] or {}).get("element_variable"))):
        if value is not None and not _IDENTIFIER.match(value):
            problems.append(f"{key} {value!r} is not a variable name")
    return [finding("bpmn.E031", nid, f"{node['type']} {nid!r}: {p}", "see DESIGN.md's extension table for the format")
            for p in problems]


def _form_problems(nid: str, fields: list[dict]) -> list[Finding]:
    out, seen = [], set()
    for field in fields:
        key, problem = field["key"], None
        if not _IDENTIFIER.match(key):
            problem = f"form field key {key!r} is not a variable name"
        elif key in seen:
            problem = f"form field {key!r} appears twice"
        elif field["type"] not in FORM_TYPES:
            problem = f"form field {key!r} has unknown type {field['type']!r} (use {', '.join(FORM_TYPES)})"
        elif field["type"] == "enum" and not field["choices"]:
            problem = f"enum form field {key!r} has no choices"
        seen.add(key)
        if problem:
            out.append(finding("bpmn.E026", nid, f"{problem} in user task {nid!r}",
                               "each field needs a unique key, a known type, and choices=\"a,b\" for enums"))
    return out
