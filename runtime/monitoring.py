"""Reads behind the instance pages (`/instances/`, `/instances/<id>/`) and their socket.

Who may look at an instance: staff see every instance; anyone else sees the instances
they started and those holding a task they can see in their inbox (or completed). The same
rule gates the list, the detail page, its fragments and ``ws/instances/<id>/``.

The list pages by keyset on the primary key (newest first): ``id`` grows with
``started_at``, the primary key index serves every filter combination, and page 2000 costs
what page 1 costs, which OFFSET cannot promise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from runtime import permissions
from runtime.models import (HistoryEvent, HumanTask, HumanTaskState, Incident, IncidentState, InstanceStatus,
                            ProcessInstance, Token)
from runtime.selectors import task_visibility

PAGE_SIZE = 50
HISTORY_LIMIT = 500


# -- who may see what --------------------------------------------------------------------

def sees_all_instances(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


def visibility(user) -> Q:
    """Instances the user may look at, as one filter (an OR of indexed semi-joins)."""
    if sees_all_instances(user):
        return Q()
    tasks = HumanTask.objects.filter(task_visibility(user) | Q(completed_by_id=user.pk)).values("instance_id")
    return Q(started_by_id=user.pk) | Q(pk__in=tasks)


def can_view_instance(user, instance_id: int) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return ProcessInstance.objects.filter(visibility(user), pk=instance_id).exists()


def can_operate(user) -> bool:
    """Suspend, resume, cancel, retry: the services' own rule, asked before showing buttons."""
    return bool(user and user.is_authenticated) and permissions.can_operate_instance(user)


# -- the list ----------------------------------------------------------------------------

@dataclass(frozen=True)
class InstanceFilters:
    status: str = ""
    process: str = ""
    q: str = ""
    incident: bool = False

    @classmethod
    def from_query(cls, params) -> "InstanceFilters":
        status = params.get("status", "")
        return cls(status=status if status in InstanceStatus.values else "",
                   process=params.get("process", "").strip()[:200],
                   q=params.get("q", "").strip()[:200],
                   incident=params.get("incident") == "1")

    def as_query(self, **override: Any) -> dict[str, str]:
        values = {"status": self.status, "process": self.process, "q": self.q, "incident": "1" if self.incident else ""}
        values.update({k: ("" if v is None else str(v)) for k, v in override.items()})
        return {k: v for k, v in values.items() if v}


def _filtered(*, user, filters: InstanceFilters, with_status: bool = True) -> QuerySet[ProcessInstance]:
    qs = ProcessInstance.objects.filter(visibility(user))
    if with_status and filters.status:
        qs = qs.filter(status=filters.status)
    if filters.process:
        qs = qs.filter(version__definition__key=filters.process)
    if filters.q:
        # Prefix, not substring: a prefix can use the business_key index; LIKE '%x%' cannot.
        qs = qs.filter(business_key__startswith=filters.q)
    if filters.incident:
        qs = qs.filter(has_incident=True)
    return qs


@dataclass
class InstancePage:
    rows: list[ProcessInstance]
    newer: int | None = None  # pass as ?after= to see the page before this one
    older: int | None = None  # pass as ?before= to see the page after this one
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def instance_page(*, user, filters: InstanceFilters, before: int | None = None, after: int | None = None,
                  size: int = PAGE_SIZE) -> InstancePage:
    """One page, newest first. ``before``/``after`` are the ids at the page's edges."""
    qs = (_filtered(user=user, filters=filters)
          .select_related("version__definition", "started_by")
          .only("id", "business_key", "status", "started_at", "ended_at", "has_incident", "incident_count",
                "history_seq", "parent_id", "started_by__username", "version__number",
                "version__definition__key", "version__definition__name"))
    if after is not None:
        rows = list(qs.filter(pk__gt=after).order_by("id")[:size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        page = InstancePage(rows, newer=rows[0].pk if rows and more_newer else None,
                            older=rows[-1].pk if rows else None)
        if not rows:  # nothing newer: show the first page instead of an empty one
            return instance_page(user=user, filters=filters, size=size)
    else:
        if before is not None:
            qs = qs.filter(pk__lt=before)
        rows = list(qs.order_by("-id")[:size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        page = InstancePage(rows, newer=rows[0].pk if rows and before is not None else None,
                            older=rows[-1].pk if rows and more_older else None)
    page.counts = status_counts(user=user, filters=filters)
    return page


def status_counts(*, user, filters: InstanceFilters) -> dict[str, int]:
    """Instances per status under every filter but the status one (the filter's pills)."""
    rows = _filtered(user=user, filters=filters, with_status=False).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def process_choices(*, user) -> list[tuple[str, str]]:
    """(key, name) of the processes the user has instances of, for the filter menu."""
    from designer.models import ProcessDefinition

    if sees_all_instances(user):
        qs = ProcessDefinition.objects.all()
    else:
        keys = ProcessInstance.objects.filter(visibility(user)).values("version__definition_id")
        qs = ProcessDefinition.objects.filter(pk__in=keys)
    return [(d.key, d.name or d.key) for d in qs.order_by("key").only("key", "name")]


def tile_counts(*, user) -> dict[str, int]:
    """Active and incident counts of the instances the user can see (the home tile)."""
    active = Q(status__in=(InstanceStatus.RUNNING, InstanceStatus.SUSPENDED, InstanceStatus.COMPENSATING))
    return ProcessInstance.objects.filter(visibility(user)).aggregate(
        running=Count("id", filter=Q(status=InstanceStatus.RUNNING)),
        active=Count("id", filter=active),
        incidents=Count("id", filter=active & Q(has_incident=True)),
    )


# -- one instance ------------------------------------------------------------------------

def instance_for_page(*, user, instance_id: int) -> ProcessInstance | None:
    return (ProcessInstance.objects.filter(visibility(user), pk=instance_id)
            .select_related("version__definition", "started_by", "parent__version__definition")
            .defer("state").first())


def node_names(instance: ProcessInstance) -> dict[str, str]:
    nodes = (instance.version.compiled or {}).get("nodes", {})
    return {node_id: (node.get("name") or node_id) for node_id, node in nodes.items()}


def live_tokens(*, instance: ProcessInstance) -> list[Token]:
    return list(Token.objects.filter(instance=instance).order_by("since", "id"))


def open_tasks(*, instance: ProcessInstance) -> list[HumanTask]:
    return list(HumanTask.objects.filter(instance=instance, state__in=(HumanTaskState.OPEN, HumanTaskState.CLAIMED))
                .select_related("assignee").prefetch_related("candidate_groups", "candidate_users")
                .order_by("-priority", "created_at", "id"))


def incidents(*, instance: ProcessInstance) -> list[Incident]:
    """Open incidents first, then the resolved ones (the latest 20), newest first."""
    opened = list(Incident.objects.filter(instance=instance, state=IncidentState.OPEN).order_by("-created_at", "-id"))
    resolved = list(Incident.objects.filter(instance=instance).exclude(state=IncidentState.OPEN)
                    .select_related("resolved_by").order_by("-created_at", "-id")[:20])
    return opened + resolved


def children(*, instance: ProcessInstance) -> list[ProcessInstance]:
    return list(ProcessInstance.objects.filter(parent=instance).select_related("version__definition")
                .only("id", "status", "business_key", "version__number", "version__definition__key").order_by("id")[:50])


def history(*, instance: ProcessInstance, after: int = 0, newest_first: bool = True,
            limit: int | None = HISTORY_LIMIT) -> list[HistoryEvent]:
    """The timeline; ``after`` returns only what a live page has not shown yet."""
    qs = HistoryEvent.objects.filter(instance=instance, seq__gt=after).order_by("-seq" if newest_first else "seq")
    if limit is not None and newest_first:
        return list(qs[:limit])
    if limit is not None:  # oldest first but capped: the *latest* `limit`, shown in order
        floor = max(after, instance.history_seq - limit)
        return list(qs.filter(seq__gt=floor))
    return list(qs)


# Token-path history: a token arriving (created/moved) marks its node visited; moving on
# marks its source done; a gateway names the flows it fired (forks create tokens for them).
_PATH_TYPES = ("token.created", "token.moved", "activity.completed", "token.consumed", "gateway.fired")


def diagram_overlay(*, instance: ProcessInstance, tokens: list[Token] | None = None,
                    open_incidents: list[Incident] | None = None) -> dict[str, Any]:
    """What the viewer marks: live tokens per node, the path taken, incident nodes."""
    done_nodes: dict[str, None] = {}
    done_flows: dict[str, None] = {}
    rows = (HistoryEvent.objects.filter(instance=instance, type__in=_PATH_TYPES)
            .order_by("seq").values_list("type", "node_id", "data"))
    for type_, node_id, data in rows:
        data = data or {}
        if type_ == "token.moved":
            if data.get("flow"):
                done_flows.setdefault(data["flow"], None)
            if data.get("source"):
                done_nodes.setdefault(data["source"], None)
        elif type_ == "gateway.fired":
            for flow_id in data.get("flows") or ():
                done_flows.setdefault(flow_id, None)
        elif type_ in ("activity.completed", "token.consumed") and node_id:
            done_nodes.setdefault(node_id, None)
    if tokens is None:
        tokens = live_tokens(instance=instance)
    active: dict[str, int] = {}
    for token in tokens:
        active[token.node_id] = active.get(token.node_id, 0) + 1
    if open_incidents is None:
        open_incidents = list(Incident.objects.filter(instance=instance, state=IncidentState.OPEN))
    return {
        "seq": instance.history_seq,
        "status": instance.status,
        "active": active,
        "done_nodes": list(done_nodes),
        "done_flows": list(done_flows),
        "incidents": sorted({i.node_id for i in open_incidents if i.state == IncidentState.OPEN and i.node_id}),
    }
