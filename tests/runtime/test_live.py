"""Live pushes: sent only after commit, to the instance/version/user/group channel groups,
each carrying the instance's history sequence number; a failing layer never breaks a step."""
import threading
import time

import pytest
from channels import layers as channel_layers
from django.db import transaction

from runtime import live, services
from runtime.models import HumanTask, ProcessInstance
from tests.runtime import graphs

pytestmark = pytest.mark.django_db(transaction=True)


class RecordingLayer:
    def __init__(self, fail=False):
        self.sent = []
        self.fail = fail

    async def group_send(self, group, message):
        if self.fail:
            raise ConnectionError("layer down")
        self.sent.append((group, message["payload"]))


@pytest.fixture
def layer(monkeypatch):
    recording = RecordingLayer()
    monkeypatch.setattr(channel_layers, "get_channel_layer", lambda alias="default": recording)
    return recording


def sent(layer):
    live._background.flush()
    return layer.sent


def test_an_instance_change_is_pushed_with_its_sequence_number(deploy, users, layer):
    deploy(graphs.loan())
    instance = services.instance_start(process_key="loan", variables={"amount": 1})
    instance.refresh_from_db()
    pushes = dict((g, p) for g, p in sent(layer) if p["type"] == "instance")
    assert set(pushes) == {f"instance.{instance.pk}", f"version.{instance.version_id}"}
    assert pushes[f"instance.{instance.pk}"]["seq"] == instance.history_seq
    task_pushes = [(g, p) for g, p in sent(layer) if p["type"] == "task"]
    assert {g for g, _ in task_pushes} == {"group.reviewers", f"instance.{instance.pk}"}
    assert all(p["seq"] == instance.history_seq for _, p in task_pushes)

    layer.sent.clear()
    services.task_claim(task=HumanTask.objects.get(), user=users.alice)
    instance.refresh_from_db()
    groups = {g for g, p in sent(layer) if p["type"] == "task"}
    assert groups == {"group.reviewers", f"user.{users.alice.pk}", f"instance.{instance.pk}"}
    assert {p["seq"] for _, p in sent(layer)} == {instance.history_seq}


def test_nothing_is_pushed_for_a_rolled_back_transaction(deploy, layer):
    deploy(graphs.loan())
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.instance_start(process_key="loan", variables={"amount": 1})
            raise RuntimeError("roll back")
    assert sent(layer) == [] and not ProcessInstance.objects.exists()


def test_a_failing_layer_never_breaks_the_step(deploy, monkeypatch):
    broken = RecordingLayer(fail=True)
    monkeypatch.setattr(channel_layers, "get_channel_layer", lambda alias="default": broken)
    deploy(graphs.loan())
    instance = services.instance_start(process_key="loan", variables={"amount": 1})
    live._background.flush()
    instance.refresh_from_db()
    assert instance.status == "running"


def test_group_names_are_made_safe_for_channels():
    assert live.group_group("Loan officers (EU)") == "group.Loan_officers__EU_"


class BatchLayer:
    """A layer with ``send_pushes_blocking`` whose first batch waits for ``gate``."""

    def __init__(self, fail_first=False):
        self.batches, self.gate, self.fail_first = [], threading.Event(), fail_first

    def send_pushes_blocking(self, pushes):
        first = not self.batches
        self.batches.append(pushes)
        if first:
            self.gate.wait(5)
            if self.fail_first:
                raise ConnectionError("layer down")


def test_the_sender_sends_what_queued_up_meanwhile_as_one_batch_in_order():
    sender, layer = live._BackgroundSender(), BatchLayer()
    sender.submit(layer, [live.Push(["instance.1"], {"n": 1})])
    while not layer.batches:  # the first batch is on the wire
        time.sleep(0.001)
    sender.submit(layer, [live.Push(["instance.1"], {"n": 2}), live.Push(["user.3"], {"n": 3})])
    sender.submit(layer, [live.Push(["instance.1", "version.2"], {"n": 4})])
    layer.gate.set()
    assert sender.flush()
    assert layer.batches == [[(["instance.1"], {"n": 1})],
                             [(["instance.1"], {"n": 2}), (["user.3"], {"n": 3}), (["instance.1", "version.2"], {"n": 4})]]


def test_a_failed_batch_is_logged_and_the_next_one_still_goes(caplog):
    sender, layer = live._BackgroundSender(), BatchLayer(fail_first=True)
    layer.gate.set()
    sender.submit(layer, [live.Push(["instance.1"], {"n": 1})])
    assert sender.flush()
    sender.submit(layer, [live.Push(["instance.1"], {"n": 2})])
    assert sender.flush()
    assert [[p for _, p in batch] for batch in layer.batches] == [[{"n": 1}], [{"n": 2}]]
    assert "live push failed" in caplog.text


def test_without_batches_each_group_is_sent_and_one_failing_push_spares_the_others():
    class FlakyLayer(RecordingLayer):
        async def group_send(self, group, message):
            if message["payload"]["n"] == 1:
                raise ConnectionError("layer down")
            await super().group_send(group, message)

    sender, layer = live._BackgroundSender(), FlakyLayer()
    sender.submit(layer, [live.Push(["a", "b"], {"n": 1}), live.Push(["a", "b"], {"n": 2})])
    assert sender.flush()
    assert layer.sent == [("a", {"n": 2}), ("b", {"n": 2})]


def test_a_batch_keeps_only_the_latest_push_of_an_instance_and_every_task_push():
    def instance(pk, seq, groups=("instance.1", "version.2")):
        return live.Push(list(groups), {"type": "instance", "instance": pk, "seq": seq})

    def task(pk, state):
        return live.Push(["group.reviewers", "instance.1"], {"type": "task", "task": pk, "state": state})

    pushes = [instance(1, 3), task(7, "open"), instance(2, 1), instance(1, 4), task(7, "claimed"),
              instance(1, 5), instance(1, 6, groups=("instance.1",))]
    assert [(p.payload["type"], p.payload.get("instance"), p.payload.get("seq"), p.payload.get("state"))
            for p in live.coalesce(pushes)] == [
        ("task", None, None, "open"), ("instance", 2, 1, None), ("task", None, None, "claimed"),
        ("instance", 1, 5, None), ("instance", 1, 6, None)]
    alone = [instance(1, 3), instance(2, 1)]
    assert live.coalesce(alone) == alone
