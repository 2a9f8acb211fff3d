"""Inbox writes that runtime/services.py does not offer: hand a task to another person.

Claim, unclaim and complete are ``runtime.services.task_*``; this module adds
``task_reassign`` with the same shape (keyword-only, one transaction, instance lock
first, a history event per change, pushes after commit, ``RuntimeServiceError``s).
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from runtime import permissions
from runtime import transitions as tt
from runtime.models import HumanTask, HumanTaskState, TaskCandidateGroup, TaskCandidateUser
from runtime.services import Conflict, InvalidInput, NotFound, PermissionDenied, actor_of
from runtime.store import UnitOfWork


def can_reassign(user, task: HumanTask) -> bool:
    """Staff may hand any active task on; otherwise the assignee may pass their task on,
    and a candidate may hand an unclaimed task to a fellow candidate."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    if task.assignee_id:
        return task.assignee_id == user.pk
    return permissions.is_candidate(user, task)


def task_reassign(*, task: HumanTask | int, user, to_user) -> HumanTask:
    """Assign the task to ``to_user`` (claimed on their behalf), who must be a candidate.

    Refusals write nothing: the checks run before any history is buffered.
    """
    User = get_user_model()
    pk = task.pk if isinstance(task, HumanTask) else task
    instance_id = HumanTask.objects.filter(pk=pk).values_list("instance_id", flat=True).first()
    if instance_id is None:
        raise NotFound(f"no task #{pk}")
    if not isinstance(to_user, User):
        to_user = User.objects.filter(pk=to_user, is_active=True).first() if str(to_user).isdigit() else None
        if to_user is None:
            raise InvalidInput("choose an active user to hand the task to")
    with transaction.atomic():
        uow = UnitOfWork(actor=actor_of(user))
        instance = uow.lock(instance_id)  # instance first, then its rows: the one lock order
        locked = HumanTask.objects.select_for_update().get(pk=pk)
        if not can_reassign(user, locked):
            raise PermissionDenied("only the assignee, a candidate of an unclaimed task, or staff may reassign it")
        if not locked.is_active:
            raise Conflict(f"task #{locked.pk} is already {locked.state}")
        if not eligible(to_user, locked):
            raise InvalidInput(f"{to_user.get_username()} is not a candidate for this task")
        if locked.assignee_id == to_user.pk:
            raise Conflict(f"task #{locked.pk} is already assigned to {to_user.get_username()}")
        previous = locked.assignee_id
        data = {"task": locked.pk, "assignee": to_user.get_username(), "previous_assignee": previous,
                "by": actor_of(user)}
        if locked.state == HumanTaskState.OPEN:
            tt.advance(tt.HUMAN_TASK, locked, HumanTaskState.CLAIMED, history=uow.history(instance),
                       node=locked.node_id, token=locked.token_id, data=data)
        else:  # claimed -> claimed is no state change, but it is a change of hands: record it
            uow.history(instance).add("human_task.reassigned", node=locked.node_id, token=locked.token_id,
                                      from_state=locked.state, to_state=locked.state, data=data)
        locked.assignee = to_user
        locked.claimed_at = uow.now
        locked.save(update_fields=["state", "assignee", "claimed_at"])
        uow.task_changed(locked, also_users=[previous] if previous else ())
        uow.commit()
    if isinstance(task, HumanTask) and task is not locked:
        task.refresh_from_db()
        return task
    return locked


def eligible(user, task: HumanTask) -> bool:
    """Who a task may be handed to: an active user the task names, directly or through a
    group, or anyone active when it names nobody. Deliberately not ``is_candidate``:
    superusers pass that for every task, and staff must not park tasks on admins."""
    if not user.is_active:
        return False
    if task.open_to_all:
        return True
    return (TaskCandidateUser.objects.filter(task=task, user=user).exists()
            or TaskCandidateGroup.objects.filter(task=task, group__in=user.groups.all()).exists())
