"""docker-compose.yml cannot run here (no Docker engine), so prove every service's command
names a real entry point of the project."""
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_service_of_the_topology(compose):
    assert {"postgres", "redis", "migrate", "web", "worker", "scheduler"} <= set(compose["services"])
    for name in ("postgres", "redis", "web"):
        assert "healthcheck" in compose["services"][name], name


def _entry_points(compose):
    for name, service in compose["services"].items():
        command = service.get("command")
        if command:
            yield name, command


def test_every_command_names_a_real_entry_point(compose):
    checked = set()
    for name, command in _entry_points(compose):
        program = command[0]
        if program == "daphne":
            app = import_string(command[-1].replace(":", "."))
            assert callable(app), name
        elif program == "celery":
            assert command[1:3] == ["-A", "config"]
            celery_app = import_string("config.celery_app")
            assert celery_app.main == "flowyard"
        elif program == "python":
            assert command[1] == "manage.py"
            assert command[2] in get_commands(), f"{name}: no management command {command[2]!r}"
        else:
            pytest.fail(f"service {name} runs an unknown program {program!r}")
        checked.add(name)
    assert {"web", "worker", "scheduler", "migrate"} <= checked


def test_services_share_one_configuration_and_require_a_secret(compose):
    env = compose["services"]["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["REDIS_URL"].startswith("redis://")
    assert "?" in env["SECRET_KEY"], "SECRET_KEY must be required, never defaulted"
    assert compose["services"]["worker"]["environment"] == env
