"""The inbox pages: `/inbox/` (three tabs of tasks, live) and `/inbox/tasks/<id>/`.

Plain forms and redirects (POST, then GET) so every action works without JavaScript;
htmx only swaps the task list when a tab, filter or page changes. Live updates re-fetch
the list partial (``rows/``) and inbox.js swaps only the rows that changed, keyed by task
id, so an unchanged row never flickers. Refusals are 403 pages and write nothing; the
runtime services decide, this module only translates their errors for people.
"""
from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from runtime import inbox, inbox_services, permissions, services
from runtime.models import HumanTask, HumanTaskState

ACTIONS = ("claim", "unclaim", "complete", "reassign")


# -- the inbox ---------------------------------------------------------------------------------

def _list_context(request) -> dict:
    query = inbox.InboxQuery.from_params(request.GET)
    page = inbox.inbox_page(user=request.user, query=query)
    for task in page.tasks:
        task.due_state = inbox.due_status(task, page.now)
    counts = inbox.tab_counts(user=request.user)
    labels = inbox.tab_labels(counts)
    return {
        "page": page,
        "query": query,
        "tabs": [{"key": key, "label": label, "current": key == query.tab, "count": labels.get(key, ""),
                  "url": "?" + urlencode(query.params(tab=key, sort=""))} for key, label in inbox.TABS.items()],
        "sorts": inbox.SORTS,
        "next_url": "?" + urlencode(query.params(after=page.next_cursor)) if page.next_cursor else "",
        "first_url": "?" + urlencode(query.params()),
        "rows_url": reverse("inbox-rows"),
        "inbox_count": inbox.badge_label(inbox.badge_count(user=request.user, counts=counts)),
    }


@login_required
@require_GET
def inbox_index(request):
    context = _list_context(request)
    context["processes"] = inbox.process_choices()
    if request.htmx and request.htmx.target == "inbox-list":
        return render(request, "runtime/inbox/_list.html", context)
    return render(request, "runtime/inbox/index.html", context)


@login_required
@require_GET
def inbox_rows(request):
    """The list partial the live script re-fetches (same query string as the page)."""
    return render(request, "runtime/inbox/_list.html", _list_context(request))


@login_required
@require_GET
def inbox_count(request):
    count = inbox.badge_count(user=request.user)
    return JsonResponse({"count": count, "label": inbox.badge_label(count)})


# -- one task ----------------------------------------------------------------------------------

def _task_or_404(request, pk: int) -> HumanTask:
    task = inbox.task_for_page(user=request.user, task_id=pk)
    if task is None:
        raise Http404("No such task, or it is not yours to see.")
    return task


def _badge(request) -> str:
    """The nav badge for the inbox pages themselves (the context processor does it for
    every page once it is listed in settings)."""
    return inbox.badge_label(inbox.badge_count(user=request.user))


def _task_context(request, task: HumanTask, *, errors: dict | None = None, submitted: dict | None = None) -> dict:
    user = request.user
    active = task.is_active
    version = task.instance.version
    can_reassign = active and inbox_services.can_reassign(user, task)
    return {
        "task": task,
        "instance": task.instance,
        "process_name": version.definition.name or version.definition.key,
        "version": version,
        "due_state": inbox.due_status(task),
        "groups": inbox.task_groups(task),
        "variables": [(k, json.dumps(v, ensure_ascii=False, default=str)) for k, v in inbox.relevant_variables(task)],
        "fields": inbox.form_initial(task, submitted, errors),
        "errors": errors or {},
        "form_errors": (errors or {}).get("__all__", []),
        "is_mine": task.assignee_id == user.pk,
        "can_claim": active and task.state == HumanTaskState.OPEN and permissions.can_claim(user, task),
        "can_unclaim": active and task.state == HumanTaskState.CLAIMED and permissions.can_unclaim(user, task),
        "can_complete": active and permissions.can_complete(user, task),
        "can_reassign": can_reassign,
        "reassign_to": inbox.reassign_choices(task=task) if can_reassign else [],
        "diagram_xml": version.xml,
        "instance_url": _safe_instance_url(task.instance_id),
        "inbox_count": _badge(request),
    }


def _safe_instance_url(pk: int) -> str:
    try:
        return reverse("instance-detail", args=[pk])
    except Exception:  # the instances pages are optional for the inbox
        return ""


@login_required
@require_GET
def inbox_task(request, pk: int):
    task = _task_or_404(request, pk)
    return render(request, "runtime/inbox/task.html", _task_context(request, task))


def _forbidden(request, task: HumanTask | None, message: str):
    return render(request, "runtime/inbox/forbidden.html", {"task": task, "message": message}, status=403)


def _conflict_message(task_id: int, user, action: str, exc: Exception) -> str:
    """Say who got there first when that is what happened (the lost claim race)."""
    task = HumanTask.objects.select_related("assignee").filter(pk=task_id).first()
    if task is not None and action == "claim" and task.assignee_id and task.assignee_id != user.pk:
        return f"Too late: {task.assignee.get_username()} claimed “{task}” first."
    if task is not None and task.state in (HumanTaskState.COMPLETED, HumanTaskState.CANCELLED):
        return f"Nothing was changed: “{task}” is already {task.get_state_display().lower()}."
    return f"Nothing was changed: {exc}."


@login_required
@require_POST
def inbox_task_action(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404("No such action.")
    # No visibility check here: the service refuses with PermissionDenied -> 403, as the
    # REST contract does, and writes nothing.
    task = HumanTask.objects.filter(pk=pk).first()
    if task is None:
        raise Http404("No such task.")
    task_url = reverse("inbox-task", args=[pk])
    try:
        if action == "claim":
            services.task_claim(task=pk, user=request.user)
            messages.success(request, f"You claimed “{task}”.")
            return redirect(task_url)
        if action == "unclaim":
            services.task_unclaim(task=pk, user=request.user)
            messages.success(request, f"“{task}” is back in the group's queue.")
            return redirect(reverse("inbox"))
        if action == "reassign":
            done = inbox_services.task_reassign(task=pk, user=request.user, to_user=request.POST.get("to_user"))
            messages.success(request, f"“{task}” is now assigned to {done.assignee.get_username()}.")
            return redirect(task_url if done.assignee_id == request.user.pk else reverse("inbox"))
        submitted = {f["key"]: request.POST.get(f["key"]) for f in task.form or [] if f.get("key")}
        try:
            done = services.task_complete(task=pk, user=request.user, variables=submitted)
        except services.TaskFormInvalid as exc:
            task = _task_or_404(request, pk)
            context = _task_context(request, task, errors=exc.errors, submitted=submitted)
            return render(request, "runtime/inbox/task.html", context, status=400)
        following = inbox.next_task_for_user(user=request.user, instance_id=done.instance_id, exclude=done.pk)
        if following is not None:
            messages.success(request, f"Completed “{task}”. Next for you in this case: “{following}”.")
            return redirect(reverse("inbox-task", args=[following.pk]))
        messages.success(request, f"Completed “{task}”.")
        return redirect(reverse("inbox"))
    except services.PermissionDenied as exc:
        return _forbidden(request, task, str(exc))
    except services.Conflict as exc:
        messages.error(request, _conflict_message(pk, request.user, action, exc))
        return redirect(reverse("inbox") + "?tab=groups" if action == "claim" else task_url)
    except services.RuntimeServiceError as exc:  # NotFound (deleted meanwhile), InvalidInput
        messages.error(request, str(exc))
        return redirect(task_url)
