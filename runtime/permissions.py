"""Who may act on human tasks and instances: small policies with one question each.

Tasks: superusers may do anything. A task names its assignee and candidates; a task that
names neither is open to every signed-in user (the model did not restrict it). A claimed task belongs to its assignee until unclaimed. Instances: operators are
superusers and holders of ``runtime.change_processinstance``.
"""
from __future__ import annotations

from runtime.models import HumanTask, HumanTaskState, TaskCandidateGroup, TaskCandidateUser


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def is_candidate(user, task: HumanTask) -> bool:
    """The user may take the task from the pool (claim it, or complete it unclaimed)."""
    if not _signed_in(user):
        return False
    if user.is_superuser or task.open_to_all:
        return True
    if TaskCandidateUser.objects.filter(task=task, user=user).exists():
        return True
    return TaskCandidateGroup.objects.filter(task=task, group__in=user.groups.all()).exists()


def can_view_task(user, task: HumanTask) -> bool:
    if not _signed_in(user):
        return False
    return user.is_superuser or task.assignee_id == user.pk or is_candidate(user, task)


def can_claim(user, task: HumanTask) -> bool:
    return is_candidate(user, task)


def can_unclaim(user, task: HumanTask) -> bool:
    return _signed_in(user) and (user.is_superuser or task.assignee_id == user.pk)


def can_complete(user, task: HumanTask) -> bool:
    if not _signed_in(user):
        return False
    if user.is_superuser:
        return True
    if task.state == HumanTaskState.CLAIMED or task.assignee_id:
        return task.assignee_id == user.pk
    return is_candidate(user, task)


def can_operate_instance(user, instance=None) -> bool:
    """Cancel, suspend, resume, retry: operators only."""
    if user is None:  # internal callers (scheduler, management commands) act as the system
        return True
    return _signed_in(user) and (user.is_superuser or user.has_perm("runtime.change_processinstance"))
