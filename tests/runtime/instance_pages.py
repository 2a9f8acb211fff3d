"""Helpers for the instance page tests: the loan approval deployed from its BPMN, and
instances written straight into the tables (no engine) for list and permission tests."""
from __future__ import annotations

from pathlib import Path

from designer.models import ProcessDefinition, ProcessVersion
from runtime.models import HistoryEvent, HumanTask, ProcessInstance, TaskCandidateGroup

DATA = Path(__file__).resolve().parents[1] / "data"


def deploy_loan(user=None) -> ProcessVersion:
    from designer.services import version_deploy

    return version_deploy(xml=(DATA / "loan_approval.bpmn").read_text(), user=user).version


def bare_version(key: str = "bare") -> ProcessVersion:
    definition, _ = ProcessDefinition.objects.get_or_create(key=key, defaults={"name": key.title()})
    number = definition.versions.count() + 1
    return ProcessVersion.objects.create(definition=definition, number=number, xml="<definitions/>",
                                         compiled={"format": 1, "nodes": {}, "flows": {}}, checksum=f"{key}-{number}")


def bare_instance(version: ProcessVersion, *, started_by=None, status: str = "running", business_key: str = "",
                  has_incident: bool = False, events: int = 1) -> ProcessInstance:
    instance = ProcessInstance.objects.create(version=version, started_by=started_by, status=status,
                                              business_key=business_key, has_incident=has_incident,
                                              history_seq=events)
    HistoryEvent.objects.bulk_create([HistoryEvent(instance=instance, seq=n, type="instance.status" if n == 1 else "token.status")
                                      for n in range(1, events + 1)])
    return instance


def bare_task(instance: ProcessInstance, *, group=None, assignee=None, state: str = "open") -> HumanTask:
    task = HumanTask.objects.create(instance=instance, wait_id=f"w{HumanTask.objects.count() + 1}", token_id="t1",
                                    node_id="review", name="Review", assignee=assignee, state=state)
    if group is not None:
        TaskCandidateGroup.objects.create(task=task, group=group)
    return task
