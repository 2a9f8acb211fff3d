"""The monitoring pages: `/instances/` (list) and `/instances/<id>/` (one instance, live).

The detail page is rendered once; afterwards its socket (``ws/instances/<id>/``) only says
"the history is now at seq N", and the page asks ``fragments/?after=<seq it shows>`` for
one response of out-of-band swaps taken from one database snapshot: the new history rows
plus the small sections (status, tokens, tasks, incidents, variables, diagram markers).
Every view answers 404 for an instance the user may not see, so ids do not leak.
"""
from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from runtime import monitoring
from runtime.models import IncidentState, InstanceStatus

ORDERS = ("desc", "asc")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


# -- the list ----------------------------------------------------------------------------

def _status_tabs(filters: monitoring.InstanceFilters, page: monitoring.InstancePage) -> list[dict]:
    """"All" plus each status that has instances (or is the one selected), with counts."""
    tabs = [{"status": "", "count": page.total, "current": not filters.status}]
    tabs += [{"status": s, "count": page.counts.get(s, 0), "current": s == filters.status}
             for s in InstanceStatus.values if page.counts.get(s) or s == filters.status]
    for tab in tabs:
        tab["url"] = "?" + urlencode(filters.as_query(status=tab["status"]))
    return tabs


@login_required
@require_GET
def instance_list(request):
    filters = monitoring.InstanceFilters.from_query(request.GET)
    page = monitoring.instance_page(user=request.user, filters=filters,
                                    before=_int(request.GET.get("before")), after=_int(request.GET.get("after")))
    context = {
        "filters": filters,
        "page": page,
        "status_tabs": _status_tabs(filters, page),
        "newer_url": "?" + urlencode(filters.as_query(after=page.newer)) if page.newer else "",
        "older_url": "?" + urlencode(filters.as_query(before=page.older)) if page.older else "",
        "processes": monitoring.process_choices(user=request.user),
        "sees_all": monitoring.sees_all_instances(request.user),
    }
    partial = bool(request.htmx) and request.htmx.target == "instance-results"
    context["partial"] = partial
    return render(request, "runtime/instances/_results.html" if partial else "runtime/instances/list.html", context)


# -- one instance ------------------------------------------------------------------------

def _instance_or_404(request, pk: int):
    instance = monitoring.instance_for_page(user=request.user, instance_id=pk)
    if instance is None:
        raise Http404("No such instance, or it is not yours to see.")
    return instance


def _order(request) -> str:
    order = request.GET.get("order", "desc")
    return order if order in ORDERS else "desc"


def _sections(request, instance) -> dict:
    """Everything but the history: the parts a push may have changed."""
    tokens = monitoring.live_tokens(instance=instance)
    incidents = monitoring.incidents(instance=instance)
    names = monitoring.node_names(instance)
    for row in tokens:
        row.node_name = names.get(row.node_id, row.node_id)
    for row in incidents:
        row.node_name = names.get(row.node_id, row.node_id)
    tasks = monitoring.open_tasks(instance=instance)
    overlay = monitoring.diagram_overlay(instance=instance, tokens=tokens, open_incidents=incidents)
    return {
        "instance": instance,
        "tokens": tokens,
        "tasks": tasks,
        "incidents": incidents,
        "open_incidents": sum(1 for i in incidents if i.state == IncidentState.OPEN),
        "variables_json": json.dumps(instance.variables, indent=2, sort_keys=True, ensure_ascii=False, default=str),
        "overlay": overlay,
        "can_operate": monitoring.can_operate(request.user),
        "node_names": names,
        "children": monitoring.children(instance=instance),
    }


def _history_context(instance, order: str, after: int = 0, everything: bool = False) -> dict:
    rows = monitoring.history(instance=instance, after=after, newest_first=order == "desc",
                              limit=None if everything else monitoring.HISTORY_LIMIT)
    names = monitoring.node_names(instance)
    for row in rows:
        row.node_name = names.get(row.node_id, "") if row.node_id else ""
        row.data_json = json.dumps(row.data, sort_keys=True, ensure_ascii=False, default=str) if row.data else ""
    shown_all = everything or instance.history_seq <= monitoring.HISTORY_LIMIT
    return {"history": rows, "order": order, "history_capped": not shown_all, "history_limit": monitoring.HISTORY_LIMIT}


@login_required
@require_GET
def instance_detail(request, pk: int):
    instance = _instance_or_404(request, pk)
    order = _order(request)
    context = _sections(request, instance)
    context.update(_history_context(instance, order, everything=request.GET.get("history") == "all"))
    context.update({
        "fragments_url": reverse("instance-fragments", args=[pk]),
        "history_url": reverse("instance-history", args=[pk]),
        "ws_path": f"/ws/instances/{pk}/",
    })
    return render(request, "runtime/instances/detail.html", context)


@login_required
@require_GET
def instance_history(request, pk: int):
    """The history card in the other order (the toggle)."""
    instance = _instance_or_404(request, pk)
    context = {"instance": instance, "history_url": reverse("instance-history", args=[pk])}
    context.update(_history_context(instance, _order(request), everything=request.GET.get("history") == "all"))
    return render(request, "runtime/instances/_history.html", context)


@login_required
@require_GET
def instance_fragments(request, pk: int):
    """Out-of-band swaps for a live page showing history up to ``after``.

    ``full=1`` (the page saw a gap, or reconnected) replaces the history instead of adding
    to it. The response carries the seq it reflects in ``X-Instance-Seq``.
    """
    instance = _instance_or_404(request, pk)
    after = _int(request.GET.get("after")) or 0
    # A page far behind (or ahead: it is confused) is rebuilt rather than sent every row.
    behind = instance.history_seq - after
    full = request.GET.get("full") == "1" or behind < 0 or behind > monitoring.HISTORY_LIMIT
    order = _order(request)
    context = _sections(request, instance)
    context.update(_history_context(instance, order, after=0 if full else after, everything=not full))
    context.update({"full": full, "oob": True, "history_url": reverse("instance-history", args=[pk])})
    response = render(request, "runtime/instances/_live.html", context)
    response["X-Instance-Seq"] = str(instance.history_seq)
    response["Cache-Control"] = "no-store"
    return response


# -- operator actions --------------------------------------------------------------------

def _services():
    from runtime import services  # imported late: services pull in the whole engine

    return services


ACTIONS = {
    "suspend": ("instance_suspend", "Instance suspended."),
    "resume": ("instance_resume", "Instance resumed."),
    "cancel": ("instance_cancel", "Instance cancelled."),
    "retry": ("instance_retry", "Incidents sent for retry."),
}


@login_required
@require_POST
def instance_action(request, pk: int, action: str):
    instance = _instance_or_404(request, pk)
    if action not in ACTIONS:
        raise Http404("No such action.")
    services = _services()
    name, done = ACTIONS[action]
    if not monitoring.can_operate(request.user):
        return HttpResponse("Only operators may change running instances.", status=403)
    try:
        getattr(services, name)(instance=instance.pk, user=request.user)
    except services.PermissionDenied as exc:
        return HttpResponse(str(exc), status=403)
    except services.RuntimeServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("instance-detail", pk=pk)
