"""Tasks: user, service, script, send, receive, manual and plain tasks.

Waiting tasks open one wait owned by their token; the event closing it carries its id.
A service call's business failure is routed like a BPMN error; a technical one (retries
exhausted, ``retryable``) that no boundary catches becomes an incident and keeps waiting.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .. import commands as cmd
from .. import events as ev
from ..activity import apply_results, complete_activity, subscribe_event, wait_here
from ..errors import EngineError
from ..graph import Node
from ..lifecycle import find_error_catcher, throw_error
from ..state import Token, Wait
from ..timers import due_value
from . import register
from .base import Activity

if TYPE_CHECKING:
    from ..context import StepContext


def _names(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v) for v in value]


def _local_inputs(token: Token, node: Node) -> dict[str, Any]:
    """Evaluated inputs: the task's / call's own data."""
    if not node.inputs:
        return {}
    local = token.data.get("locals") or {}
    return {item["name"]: local.get(item["name"]) for item in node.inputs}


@register("task", "manualTask")
class PlainTask(Activity):
    """Nothing to do: the engine passes straight through (a manual task is done offline)."""


@register("userTask")
class UserTask(Activity):
    def perform(self, ctx: "StepContext", token: Token, node: Node) -> None:
        props = node.props or {}
        view = ctx.view(token)
        value = lambda key: ctx.eval_value(props.get(key), token, node.id, view)  # noqa: E731
        assignee = value("assignee")
        groups, users = _names(value("candidate_groups")), _names(value("candidate_users"))
        if not assignee and not groups and not users and node.lane:
            groups = [node.lane]
        priority = value("priority")
        try:
            priority = int(priority) if priority not in (None, "") else None
        except (TypeError, ValueError):
            raise EngineError(f"priority {priority!r} is not a number", node=node.id) from None
        form = [dict(f, default=ctx.eval_value(f.get("default"), token, node.id, view))
                for f in props.get("form") or []]
        wait = ctx.open_wait("task", token, node.id)
        ctx.emit(cmd.CreateHumanTask(
            wait.id, token.id, node.id, node.name or node.id,
            str(assignee) if assignee else None, groups, users,
            due_value(props.get("due_date"), view, ctx.now), priority, form,
            _local_inputs(token, node)))
        wait_here(ctx, token)

    def trigger(self, ctx: "StepContext", token: Token, node: Node, wait: Wait, event) -> None:
        if not isinstance(event, ev.TaskCompleted):
            super().trigger(ctx, token, node, wait, event)
        ctx.close_wait(wait)
        complete_activity(ctx, token, dict(event.variables))


def _headers(value: Any, node: Node) -> dict | None:
    if value is None or isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        raise EngineError(f"http headers are not a JSON object: {value!r}", node=node.id) from None
    if not isinstance(parsed, dict):
        raise EngineError("http headers must be a JSON object", node=node.id)
    return parsed


def schedule_call(ctx: "StepContext", token: Token, node: Node) -> None:
    props = node.props or {}
    http = None
    if props.get("http"):
        view = ctx.view(token)
        raw = props["http"]
        http = {
            "method": (raw.get("method") or "POST").upper(),
            "url": ctx.eval_value(raw.get("url"), token, node.id, view),
            "headers": _headers(ctx.eval_value(raw.get("headers"), token, node.id, view), node),
            "body": ctx.eval_value(raw.get("body"), token, node.id, view),
        }
    wait = ctx.open_wait("call", token, node.id)
    ctx.emit(cmd.ScheduleServiceCall(
        wait.id, token.id, node.id, props.get("connector"), http, props.get("handler"),
        _local_inputs(token, node), props.get("result_variable"), int(props.get("retries", 3)),
        props.get("retry_backoff"), props.get("timeout"), props.get("backoff_coefficient"), props.get("max_interval")))
    wait_here(ctx, token)


def call_failed(ctx: "StepContext", token: Token, wait: Wait, code: str | None,
                message: str, retryable: bool) -> None:
    """Route a failed call or child: error boundary, else incident (retryable) or failure."""
    if retryable and find_error_catcher(ctx, token, code) is None:
        ctx.emit(cmd.Incident(wait.id, token.id, token.node, code, message))
        ctx.record("error.thrown", token.node, token.id, error_code=code, message=message,
                   incident=True)
        return
    ctx.close_wait(wait)
    throw_error(ctx, token, code, message)


@register("serviceTask", "sendTask")
class ServiceTask(Activity):
    def perform(self, ctx: "StepContext", token: Token, node: Node) -> None:
        props = node.props or {}
        if props.get("connector"):
            schedule_call(ctx, token, node)
            return
        if node.type != "sendTask":
            raise EngineError("service task has no connector", node=node.id, token=token.id)
        name = props.get("message") or (node.event or {}).get("message")
        if not name:
            raise EngineError("send task names no message", node=node.id, token=token.id)
        key = ctx.eval_value(props.get("correlation_key"), token, node.id)
        ctx.emit(cmd.PublishMessage(name, key, _local_inputs(token, node), token.id, node.id))
        complete_activity(ctx, token)

    def trigger(self, ctx: "StepContext", token: Token, node: Node, wait: Wait, event) -> None:
        if isinstance(event, ev.ServiceCallSucceeded):
            ctx.close_wait(wait)
            variable = (node.props or {}).get("result_variable")
            complete_activity(ctx, token, {variable: event.result} if variable else None)
        elif isinstance(event, ev.ServiceCallFailed):
            call_failed(ctx, token, wait, event.error_code, event.message, event.retryable)
        else:
            super().trigger(ctx, token, node, wait, event)


@register("scriptTask")
class ScriptTask(Activity):
    """Each line ``name = expression`` runs in order; later lines see earlier results."""

    def perform(self, ctx: "StepContext", token: Token, node: Node) -> None:
        for line in (node.props or {}).get("script") or ():
            value = ctx.eval(line["expr"], token, node.id)
            apply_results(ctx, token, node, {line["name"]: value})
        complete_activity(ctx, token)


@register("receiveTask")
class ReceiveTask(Activity):
    def perform(self, ctx: "StepContext", token: Token, node: Node) -> None:
        if "trigger" in token.data:
            complete_activity(ctx, token, token.data.pop("trigger"))
            return
        props = node.props or {}
        subscribe_event(ctx, token, node, {"kind": "message", "message": props.get("message"),
                                           "correlation_key": props.get("correlation_key")})
        wait_here(ctx, token)

    def trigger(self, ctx: "StepContext", token: Token, node: Node, wait: Wait, event) -> None:
        if not isinstance(event, ev.MessageReceived):
            super().trigger(ctx, token, node, wait, event)
        ctx.close_wait(wait)
        complete_activity(ctx, token, dict(event.variables))
