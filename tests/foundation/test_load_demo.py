"""`make run` loads demo users and processes, only in the embedded default."""
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings

from designer.models import ProcessDefinition

pytestmark = pytest.mark.django_db


@override_settings(SERVICE_MODE=False)
def test_load_demo_creates_users_in_groups_and_deploys_processes_idempotently():
    out = StringIO()
    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=StringIO())
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="alice").check_password("alice")
    assert list(User.objects.get(username="dave").groups.order_by("name").values_list("name", flat=True)) == ["finance", "sales"]
    keys = set(ProcessDefinition.objects.values_list("key", flat=True))
    assert {"loan_approval", "parallel_review", "quote_race", "order_saga"} <= keys
    assert all(d.versions.count() == 1 for d in ProcessDefinition.objects.all())
    assert "alice  / alice" in out.getvalue()


@override_settings(SERVICE_MODE=True)
def test_load_demo_refuses_service_mode():
    with pytest.raises(CommandError, match="embedded default"):
        call_command("load_demo")
