"""Reads of the human-task inbox: the three tabs, keyset pages, the nav badge, the task page.

Pages are keyset-paginated on (sort key..., id): page 400 costs what page 1 costs, and a
task that appears or leaves between two page loads never shifts a row onto the wrong page.
Every sort walks an index in order ("priority" the model's ``task_inbox`` (state,
-priority, created_at); "due" and "created" the partial indexes of migration
0003_inbox_indexes) and stops after one page, so 100k open tasks cost a page, not a sort.

"My groups" is deliberately the user's *membership*, superusers included: a superuser may
open and act on any task, but their inbox lists what is theirs to pick up.
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from designer.models import ProcessDefinition
from runtime import permissions
from runtime.conf import flowyard_setting
from runtime.models import HumanTask, HumanTaskState, TaskCandidateGroup, TaskCandidateUser

TABS = {"mine": "Mine", "groups": "My groups", "done": "Done by me"}
SORTS = {"priority": "Priority", "due": "Due date", "created": "Newest"}
ACTIVE = (HumanTaskState.OPEN, HumanTaskState.CLAIMED)

# A sort is a list of (field, descending); "id" always comes last so the order is total.
# due_at is nullable: tasks without a due date come after every dated one (NULLS LAST).
ORDERS: dict[str, list[tuple[str, bool]]] = {
    "priority": [("priority", True), ("created_at", False), ("id", False)],
    "due": [("due_at", False), ("id", False)],
    "created": [("created_at", True), ("id", True)],
    "completed": [("completed_at", True), ("id", True)],
}
NULLABLE = {"due_at", "completed_at"}
DATETIMES = {"due_at", "created_at", "completed_at"}


def conf(key: str) -> int:
    return int(flowyard_setting(key))


# -- visibility ------------------------------------------------------------------------------

def _group_ids(user) -> list[int]:
    cached = getattr(user, "_inbox_group_ids", None)
    if cached is None:
        cached = list(user.groups.values_list("pk", flat=True))
        user._inbox_group_ids = cached
    return cached


def candidate_q(user) -> Q:
    """Tasks naming the user (or one of their groups) as candidate, or naming nobody.

    EXISTS on the through tables' (user, task) / (group, task) indexes, with the group ids
    inlined: PostgreSQL then checks each task of the ordered index walk with two index
    probes instead of materialising every task of every group.
    """
    groups = _group_ids(user)
    q = Q(open_to_all=True) | Exists(TaskCandidateUser.objects.filter(task_id=OuterRef("pk"), user_id=user.pk))
    if groups:
        q |= Exists(TaskCandidateGroup.objects.filter(task_id=OuterRef("pk"), group_id__in=groups))
    return q


def tab_queryset(*, user, tab: str) -> QuerySet[HumanTask]:
    if tab == "mine":
        return HumanTask.objects.filter(assignee_id=user.pk, state__in=ACTIVE)
    if tab == "done":
        return HumanTask.objects.filter(completed_by_id=user.pk, state=HumanTaskState.COMPLETED)
    return HumanTask.objects.filter(candidate_q(user), state=HumanTaskState.OPEN)


# -- keyset cursors --------------------------------------------------------------------------

def encode_cursor(task: HumanTask, order: list[tuple[str, bool]]) -> str:
    values = []
    for name, _ in order:
        value = getattr(task, name)
        values.append(value.isoformat() if isinstance(value, _dt.datetime) else value)
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, order: list[tuple[str, bool]]) -> list[Any] | None:
    """The sort values a cursor carries, or None for anything malformed (-> first page)."""
    if not token:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(values, list) or len(values) != len(order):
        return None
    out = []
    for (name, _), value in zip(order, values):
        if value is None:
            if name not in NULLABLE:
                return None
        elif name in DATETIMES:
            value = parse_datetime(value) if isinstance(value, str) else None
            if value is None:
                return None
        elif not isinstance(value, int) or isinstance(value, bool):
            return None
        out.append(value)
    return out


def _after(name: str, desc: bool, value: Any) -> Q:
    """Rows strictly after ``value`` in this column's direction (NULLS LAST when ascending,
    NULLS FIRST when descending, as PostgreSQL orders them by default)."""
    if value is None:
        return Q(pk__in=[]) if not desc else Q(**{f"{name}__isnull": False})
    q = Q(**{f"{name}__lt" if desc else f"{name}__gt": value})
    if name in NULLABLE and not desc:
        q |= Q(**{f"{name}__isnull": True})
    return q


def _equal(name: str, value: Any) -> Q:
    return Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})


def keyset_after(order: list[tuple[str, bool]], values: list[Any]) -> Q:
    """(k1, k2, ..., id) > (v1, v2, ..., i) for mixed directions, expanded into ORs.

    The first key also gets a plain range bound (k1 <= v1 / k1 >= v1), which the planner can
    use as an index condition; the OR terms then only filter inside that range.
    """
    q = Q(pk__in=[])
    prefix = Q()
    for (name, desc), value in zip(order, values):
        q |= prefix & _after(name, desc, value)
        prefix &= _equal(name, value)
    first, first_desc = order[0]
    if values[0] is not None and first not in NULLABLE:
        q &= Q(**{f"{first}__lte" if first_desc else f"{first}__gte": values[0]})
    return q


def order_by(order: list[tuple[str, bool]]) -> list:
    from django.db.models import F

    out = []
    for name, desc in order:
        expr = F(name)
        out.append(expr.desc(nulls_first=True) if desc and name in NULLABLE
                   else expr.desc() if desc
                   else expr.asc(nulls_last=True) if name in NULLABLE else expr.asc())
    return out


# -- the inbox page --------------------------------------------------------------------------

@dataclass
class InboxQuery:
    tab: str = "groups"
    sort: str = "priority"
    process: str = ""
    search: str = ""
    after: str = ""

    @classmethod
    def from_params(cls, params, *, default_tab: str = "groups") -> "InboxQuery":
        tab = params.get("tab") or default_tab
        sort = params.get("sort") or ""
        return cls(
            tab=tab if tab in TABS else default_tab,
            sort=sort if sort in SORTS else "",
            process=(params.get("process") or "").strip()[:200],
            search=(params.get("q") or "").strip()[:200],
            after=(params.get("after") or "").strip()[:500],
        )

    @property
    def order_key(self) -> str:
        if self.sort:
            return self.sort
        return "completed" if self.tab == "done" else "priority"

    def params(self, **changes) -> dict[str, str]:
        """Query-string values of this query with ``changes`` (a new page drops ``after``)."""
        values = {"tab": self.tab, "sort": self.sort, "process": self.process, "q": self.search, "after": ""}
        values.update(changes)
        return {k: v for k, v in values.items() if v}


@dataclass
class InboxPage:
    query: InboxQuery
    tasks: list[HumanTask]
    next_cursor: str = ""
    is_first: bool = True
    now: _dt.datetime = field(default_factory=timezone.now)


def _search_q(text: str) -> Q:
    if text.startswith("#") and text[1:].isdigit():
        number = int(text[1:])
        return Q(pk=number) | Q(instance_id=number)
    return Q(name__icontains=text) | Q(instance__business_key__icontains=text)


def inbox_page(*, user, query: InboxQuery, limit: int | None = None) -> InboxPage:
    """One page of a tab: the query's filters, its sort, the rows after its cursor."""
    limit = limit or conf("INBOX_PAGE_SIZE")
    order = ORDERS[query.order_key]
    qs = tab_queryset(user=user, tab=query.tab)
    if query.process:
        qs = qs.filter(instance__version__definition__key=query.process)
    if query.search:
        qs = qs.filter(_search_q(query.search))
    values = decode_cursor(query.after, order)
    if values is not None:
        qs = qs.filter(keyset_after(order, values))
    rows = list(qs.select_related("instance__version__definition", "assignee")
                .defer("instance__state", "instance__variables", "instance__version__xml",
                       "instance__version__compiled", "form", "context", "submitted")
                .order_by(*order_by(order))[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    _attach_groups(rows)
    return InboxPage(query=query, tasks=rows, next_cursor=encode_cursor(rows[-1], order) if more else "",
                     is_first=values is None)


def _attach_groups(tasks: list[HumanTask]) -> None:
    """``task.group_names`` for the rows of a page: one query for the whole page."""
    names: dict[int, list[str]] = {t.pk: [] for t in tasks}
    if names:
        for task_id, name in (TaskCandidateGroup.objects.filter(task_id__in=names)
                              .values_list("task_id", "group__name").order_by("group__name")):
            names[task_id].append(name)
    for task in tasks:
        task.group_names = names[task.pk]


def due_status(task: HumanTask, now: _dt.datetime | None = None) -> str:
    """"overdue", "soon" (within INBOX_DUE_SOON_HOURS) or "" for a task's due date."""
    if task.due_at is None or task.state not in ACTIVE:
        return ""
    now = now or timezone.now()
    if task.due_at <= now:
        return "overdue"
    if task.due_at <= now + _dt.timedelta(hours=conf("INBOX_DUE_SOON_HOURS")):
        return "soon"
    return ""


def process_choices() -> list[tuple[str, str]]:
    return [(d.key, d.name or d.key) for d in ProcessDefinition.objects.filter(versions__isnull=False)
            .distinct().order_by("name", "key").only("key", "name")]


def badge_count(*, user, counts: dict[str, int] | None = None) -> int:
    """Tasks the user can act on now: assigned to them plus open to pick up (bounded)."""
    if user is None or not user.is_authenticated:
        return 0
    counts = counts or tab_counts(user=user)
    return counts["mine"] + counts["groups"]


def tab_counts(*, user, cap: int | None = None) -> dict[str, int]:
    """Tasks in "Mine" and "My groups", each counted up to ``cap`` + 1 (shown "99+"):
    a bounded index walk each, where an exact count would visit every open task."""
    cap = cap if cap is not None else conf("INBOX_BADGE_CAP")
    return {tab: len(tab_queryset(user=user, tab=tab).values("pk")[: cap + 1]) for tab in ("mine", "groups")}


def badge_label(count: int, cap: int | None = None) -> str:
    cap = cap if cap is not None else conf("INBOX_BADGE_CAP")
    return "" if count <= 0 else f"{cap}+" if count > cap else str(count)


def tab_labels(counts: dict[str, int]) -> dict[str, str]:
    return {tab: badge_label(n) for tab, n in counts.items()}


# -- the task page ---------------------------------------------------------------------------

def task_for_page(*, user, task_id: int) -> HumanTask | None:
    """The task with what its page shows, or None when it does not exist or the user may
    not see it (the view answers 404 either way, so ids do not leak). Staff see every
    task: they may reassign any of them, though not work on it."""
    task = (HumanTask.objects.select_related("instance__version__definition", "assignee", "completed_by")
            .filter(pk=task_id).first())
    if task is None:
        return None
    visible = user.is_staff or permissions.can_view_task(user, task) or task.completed_by_id == user.pk
    return task if visible else None


def next_task_for_user(*, user, instance_id: int, exclude: int | None = None) -> HumanTask | None:
    """After completing: the user's next task in the same instance — assigned to them
    first, else one they may pick up — in inbox order."""
    active = HumanTask.objects.filter(instance_id=instance_id, state__in=ACTIVE).exclude(pk=exclude)
    order = order_by(ORDERS["priority"])
    mine = active.filter(assignee_id=user.pk).order_by(*order).first()
    if mine is not None:
        return mine
    return active.filter(candidate_q(user), state=HumanTaskState.OPEN).order_by(*order).first()


def relevant_variables(task: HumanTask) -> list[tuple[str, Any]]:
    """The instance variables a worker needs beside the form: everything public (names not
    starting with '_'), the task's own inputs first, form keys excluded (the form shows
    them)."""
    form_keys = {f.get("key") for f in task.form or []}
    inputs = (task.context or {}).get("data") or {}
    merged: dict[str, Any] = {}
    for source in (inputs if isinstance(inputs, dict) else {}, task.instance.variables or {}):
        for key, value in source.items():
            if isinstance(key, str) and not key.startswith("_") and key not in form_keys:
                merged.setdefault(key, value)
    return list(merged.items())


def form_initial(task: HumanTask, submitted: dict | None = None, errors: dict | None = None) -> list[dict]:
    """The form fields ready for the template: the value to show (what was just submitted
    after an error, the completed submission, or the evaluated default) as ``text``,
    ``checked`` ("true"/"false"/"") for booleans, and the field's ``errors``."""
    source = submitted if submitted is not None else (task.submitted or {})
    errors = errors or {}
    fields = []
    for spec in task.form or []:
        key = spec.get("key")
        value = source.get(key) if key in source else spec.get("default")
        fields.append({**spec, "type": spec.get("type") or "string", "value": value, "text": _as_text(value),
                       "checked": _as_choice(value), "errors": errors.get(key, [])})
    return fields


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _as_choice(value: Any) -> str:
    text = _as_text(value).strip().lower()
    return "true" if text in ("true", "1", "yes", "on") else "false" if text in ("false", "0", "no", "off") else ""


def reassign_choices(*, task: HumanTask) -> list:
    """Users a task may be handed to: the members of its candidate groups and its
    candidate users (every active user for a task open to all), minus the assignee."""
    User = get_user_model()
    users = User.objects.filter(is_active=True)
    if not task.open_to_all:
        users = users.filter(Q(groups__candidate_tasks=task) | Q(candidate_tasks=task))
    if task.assignee_id:
        users = users.exclude(pk=task.assignee_id)
    return list(users.distinct().order_by(User.USERNAME_FIELD)[:500])


def task_groups(task: HumanTask) -> list[str]:
    return list(task.candidate_groups.order_by("name").values_list("name", flat=True))
