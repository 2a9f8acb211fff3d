"""The shell commands: start, complete-task, send-message (values parse as JSON)."""
import pytest
from django.core.management import CommandError, call_command

from runtime.management.commands._vars import parse_vars
from runtime.models import HumanTask, ProcessInstance
from tests.runtime import graphs

pytestmark = pytest.mark.django_db


def test_vars_parse_as_json_when_they_can():
    assert parse_vars(["n=3", "ok=true", "items=[1, 2]", "name=Ada", 's="3"', "eq=a=b"]) == {
        "n": 3, "ok": True, "items": [1, 2], "name": "Ada", "s": "3", "eq": "a=b"}
    with pytest.raises(CommandError):
        parse_vars(["novalue"])
    with pytest.raises(CommandError):
        parse_vars(["not-an-identifier=1"])


def test_start_complete_and_send_message(deploy, users, wakeups, capsys):
    deploy(graphs.loan())
    deploy(graphs.order())
    with wakeups():
        call_command("start", "loan", "--var", "amount=2000", "--business-key", "L-7", "--user", "alice")
    loan = ProcessInstance.objects.get(business_key="L-7")
    assert loan.variables["amount"] == 2000 and loan.started_by == users.alice
    assert f"instance {loan.pk} running" in capsys.readouterr().out
    task = HumanTask.objects.get(instance=loan)
    with pytest.raises(CommandError, match="approved: This field is required"):
        call_command("complete-task", str(task.pk), "--user", "bob")
    with wakeups():
        call_command("complete-task", str(task.pk), "--var", "approved=true", "--user", "bob")
    loan.refresh_from_db()
    assert loan.status == "completed"
    with wakeups():
        call_command("start", "order", "--var", "order_id=42")
        call_command("send-message", "payment", "--correlation-key", "42", "--var", "amount=9")
    order = ProcessInstance.objects.get(version__definition__key="order")
    assert order.status == "completed" and order.variables["amount"] == 9
    with pytest.raises(CommandError, match="nothing waits"):
        call_command("send-message", "payment", "--correlation-key", "42")
    with pytest.raises(CommandError, match="no deployed process"):
        call_command("start", "ghost")
