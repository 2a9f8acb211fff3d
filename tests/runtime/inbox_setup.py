"""Shared set-up of the inbox tests: the demo BPMN deployed for real, a group of loan
officers, and helpers that start cases or write task rows directly (for volume)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.utils import timezone

from designer.services import version_deploy
from runtime import services
from runtime.models import HumanTask, ProcessInstance, TaskCandidateGroup, TaskCandidateUser

DATA = Path(__file__).resolve().parents[1] / "data"


def deploy_fixture(name: str):
    return version_deploy(xml=(DATA / name).read_text(), accept_warnings=True)


class People:
    """olivia and oscar are loan officers; carol is not; sam is staff; root is superuser."""

    def __init__(self, password: str | None = None):
        self.officers = Group.objects.create(name="loan-officers")
        self.sales = Group.objects.create(name="sales")
        self.olivia = User.objects.create_user("olivia", password=password)
        self.oscar = User.objects.create_user("oscar", password=password)
        self.carol = User.objects.create_user("carol", password=password)
        self.sam = User.objects.create_user("sam", password=password, is_staff=True)
        self.root = User.objects.create_superuser("root", "root@example.com", password)
        self.olivia.groups.add(self.officers)
        self.oscar.groups.add(self.officers, self.sales)


def start_loan(*, amount=5000, income=2000, business_key="", user=None) -> HumanTask:
    instance = services.instance_start(process_key="loan_approval", variables={"amount": amount, "income": income},
                                       business_key=business_key, user=user)
    return HumanTask.objects.get(instance=instance, node_id="Task_review")


def make_task(instance: ProcessInstance, *, name="Task", groups=(), users=(), open_to_all=False, priority=50,
              due_in: dt.timedelta | None = None, created_ago=dt.timedelta(0), assignee=None, state=None,
              node="Task_review", form=None) -> HumanTask:
    """A task row written directly (volume and edge cases without running the engine)."""
    now = timezone.now()
    task = HumanTask.objects.create(
        instance=instance, wait_id=f"w{HumanTask.objects.count() + 1}-{now.timestamp()}", token_id="t", node_id=node,
        name=name, open_to_all=open_to_all, priority=priority, due_at=now + due_in if due_in is not None else None,
        created_at=now - created_ago, assignee=assignee,
        state=state or ("claimed" if assignee else "open"), form=form or [],
    )
    TaskCandidateGroup.objects.bulk_create([TaskCandidateGroup(task=task, group=g) for g in groups])
    TaskCandidateUser.objects.bulk_create([TaskCandidateUser(task=task, user=u) for u in users])
    return task
