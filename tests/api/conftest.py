"""Fixtures for the REST API: users with tokens, clients authenticated as each, and the
demo processes deployed from tests/data."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from designer.services import version_deploy

DATA = Path(__file__).resolve().parents[1] / "data"


def bpmn(name: str) -> str:
    return (DATA / name).read_text()


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Throttle counters live in the cache; per-version caches assume ids are never reused
    (rolled-back tests reuse them)."""
    from runtime import selectors
    from runtime.store import graphs

    cache.clear()
    graphs.clear()
    selectors._start_cache.clear()
    yield
    cache.clear()


class Users:
    alice: User
    bob: User
    carol: User
    ops: User
    operator: User
    deployer: User
    root: User


@pytest.fixture
def users(db) -> Users:
    officers = Group.objects.create(name="loan-officers")
    u = Users()
    # No passwords: hashing one costs ~0.3 s; clients authenticate with tokens.
    u.alice = User.objects.create_user("alice")
    u.bob = User.objects.create_user("bob")
    u.carol = User.objects.create_user("carol")  # in no group: sees nothing of others
    u.ops = User.objects.create_user("ops", is_staff=True)  # staff: sees all, no permissions
    u.operator = User.objects.create_user("operator", is_staff=True)  # staff with the operator permission
    u.operator.user_permissions.add(Permission.objects.get(codename="change_processinstance"))
    u.deployer = User.objects.create_user("deployer")
    u.deployer.user_permissions.add(Permission.objects.get(codename="add_processversion"))
    u.root = User.objects.create_superuser("root", email="", password=None)
    u.alice.groups.add(officers)
    u.bob.groups.add(officers)
    return u


@pytest.fixture(scope="session")
def _handler_client():
    """One APIClient for the session: a client builds its middleware chain on first use,
    and WhiteNoise scans every static file (node_modules too) while it does (~0.5 s)."""
    return APIClient()


@pytest.fixture
def client_for(users, _handler_client):
    """``client_for(users.alice)``: an APIClient sending that user's token (None: no credentials)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        client.handler = _handler_client.handler
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def anon(client_for) -> APIClient:
    return client_for(None)


@pytest.fixture
def loan(users):
    return version_deploy(xml=bpmn("loan_approval.bpmn"), user=users.root).version


@pytest.fixture
def quote(users):
    return version_deploy(xml=bpmn("quote_race.bpmn"), user=users.root).version


@pytest.fixture
def start_loan(loan, client_for):
    """Start a loan_approval instance through the API as ``user``; returns the response body."""

    def start(user, **variables):
        body = {"process": "loan_approval", "variables": {"amount": 5000, "income": 3000, **variables}}
        response = client_for(user).post("/api/instances/", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    return start


def errors_of(response) -> list[dict]:
    body = response.json()
    assert set(body) == {"errors"}, body
    assert body["errors"] and all("message" in e and "code" in e for e in body["errors"]), body
    return body["errors"]


def fields_of(response) -> set[str]:
    return {e.get("field") for e in errors_of(response)}
