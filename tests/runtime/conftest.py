"""Fixtures for the runtime's Django half: deploying graphs built in code, users and
groups, and Celery tasks that run eagerly inside the on-commit hooks."""
from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group, User

from designer.models import ProcessDefinition, ProcessVersion
from runtime.engine.testing.builder import GraphBuilder

_numbers = itertools.count(1)


def deploy_graph(graph: dict | GraphBuilder, *, key: str | None = None) -> ProcessVersion:
    """Store a compiled graph as the next version of its process (no BPMN involved)."""
    data = graph.build() if isinstance(graph, GraphBuilder) else graph
    key = key or data["process"]["id"]
    data["process"]["id"] = key
    definition, _ = ProcessDefinition.objects.get_or_create(key=key, defaults={"name": key})
    latest = definition.versions.order_by("-number").first()
    return ProcessVersion.objects.create(
        definition=definition, number=(latest.number + 1) if latest else 1, xml=f"<!-- {key} {next(_numbers)} -->",
        compiled=data, checksum=f"{key}-{next(_numbers)}",
    )


@pytest.fixture
def deploy(db):
    return deploy_graph


@pytest.fixture
def eager_celery(settings):
    """Run wake-ups synchronously in the on-commit hook that sends them."""
    from config.celery import app

    old = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def wakeups(eager_celery, django_capture_on_commit_callbacks):
    """``with wakeups():`` runs the block's after-commit hooks (and so its Celery tasks)
    at the end of the block, inside a test that runs in one rolled-back transaction."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def users(db):
    reviewers = Group.objects.create(name="reviewers")
    managers = Group.objects.create(name="managers")
    # No passwords: hashing one costs ~0.3 s; tests log in with force_login.
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    carol = User.objects.create_user("carol")
    root = User.objects.create_superuser("root", email="", password=None)
    alice.groups.add(reviewers)
    bob.groups.add(reviewers, managers)

    class Users:
        pass

    u = Users()
    u.alice, u.bob, u.carol, u.root, u.reviewers, u.managers = alice, bob, carol, root, reviewers, managers
    return u


@pytest.fixture
def handlers(settings):
    from tests.runtime import handlers as module

    settings.FLOWYARD = {**settings.FLOWYARD, "PYTHON_HANDLERS": ["tests.runtime.handlers."]}
    module.CALLS.clear()
    module.FAILURES["left"] = 0
    return module


@pytest.fixture(autouse=True)
def _closed_breakers():
    """Circuit-breaker state outlives a test (in the process, or in Redis in service mode):
    one test's failing calls must not open the circuit for the next test's calls."""
    from runtime.connectors.breaker import reset_breakers

    reset_breakers()
    yield
