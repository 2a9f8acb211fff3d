"""Persisted state: every step's snapshot survives its JSON round trip, token rows mirror
it, history is gap-free, and rows written under an older format keep running. Random
sound block-structured processes (the core's generator) run to completion through the
database one transaction per step."""
import json
import random
from pathlib import Path

import pytest

from designer.models import ProcessDefinition, ProcessVersion
from runtime import services
from runtime.engine import events as ev
from runtime.engine.state import InstanceState
from runtime.engine.testing.blocks import build_process, initial_variables, random_block
from runtime.models import HistoryEvent, HumanTask, ProcessInstance, Token
from runtime.store import UnitOfWork
from tests.runtime import graphs

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).resolve().parent.parent / "data" / "runtime" / "loan_waiting_format1.json"


def assert_consistent(instance: ProcessInstance) -> None:
    instance.refresh_from_db()
    state = InstanceState.from_dict(json.loads(json.dumps(instance.state)))
    assert state.to_dict() == instance.state
    assert state.variables == instance.variables
    rows = {t.token_id: (t.node_id, t.state, t.scope or None) for t in Token.objects.filter(instance=instance)}
    assert rows == {tid: (t.node, t.status, t.scope) for tid, t in state.tokens.items()}
    open_tasks = set(HumanTask.objects.filter(instance=instance, state__in=("open", "claimed")).values_list("wait_id", flat=True))
    assert open_tasks == {w.id for w in state.waits.values() if w.kind == "task"}
    seqs = list(HistoryEvent.objects.filter(instance=instance).values_list("seq", flat=True))
    assert seqs == list(range(1, instance.history_seq + 1))


@pytest.mark.parametrize("seed", range(12))
def test_random_sound_processes_run_to_completion_through_the_database(seed, deploy, users, wakeups):
    rng = random.Random(seed)
    graph = build_process(random_block(rng, depth=3), process_id=f"gen{seed}")
    deploy(graph)
    picks = [rng.randint(0, 7) for _ in range(30)]
    with wakeups():
        instance = services.instance_start(process_key=f"gen{seed}", variables=initial_variables(picks))
    for _ in range(300):
        assert_consistent(instance)
        tasks = list(HumanTask.objects.filter(instance=instance, state="open"))
        if not tasks:
            break
        with wakeups():
            services.task_complete(task=rng.choice(tasks), user=users.root)
    instance.refresh_from_db()
    assert instance.status == "completed", instance.state
    assert not Token.objects.filter(instance=instance).exists()
    assert not instance.has_incident
    assert HistoryEvent.objects.filter(instance=instance, type="instance.status", to_state="completed").count() == 1


def test_rows_stored_under_format_1_keep_running(db):
    """The fixture was written by an earlier release; never regenerate it."""
    stored = json.loads(FIXTURE.read_text())
    assert stored["graph"]["format"] == 1 and stored["state"]["format"] == 1
    definition = ProcessDefinition.objects.create(key="loan_v1")
    version = ProcessVersion.objects.create(definition=definition, number=1, xml="<stored/>", compiled=stored["graph"],
                                            checksum="stored")
    instance = ProcessInstance.objects.create(version=version, state=stored["state"], variables=stored["variables"],
                                              state_format=stored["state"]["format"])
    (wait_id,) = stored["state"]["waits"]
    from django.db import transaction

    with transaction.atomic():
        uow = UnitOfWork(actor="test")
        outcome = uow.feed(uow.lock(instance.pk), ev.TaskCompleted(wait_id=wait_id, variables={"approved": True}))
        uow.commit()
    assert outcome.ignored is None and outcome.incident is None
    instance.refresh_from_db()
    assert instance.status == "completed" and instance.variables["paid"] == 3000


def test_deleting_an_instance_deletes_its_history_with_it(deploy, users):
    # history's reference to its instance is not checked by the database (runtime.models):
    # Django's delete must still leave no history row behind
    deploy(graphs.loan("gone"))
    kept, gone = (services.instance_start(process_key="gone", variables={"amount": 500}) for _ in range(2))
    kept_rows = HistoryEvent.objects.filter(instance=kept).count()
    assert kept_rows > 0 and HistoryEvent.objects.filter(instance=gone).exists()

    ProcessInstance.objects.filter(pk=gone.pk).delete()

    assert not HistoryEvent.objects.filter(instance_id=gone.pk).exists()
    assert HistoryEvent.objects.filter(instance=kept).count() == kept_rows
