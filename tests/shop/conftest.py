"""Shop tests run once ``"shop"`` is in INSTALLED_APPS; before that they skip, saying why.
Shop modules are imported inside tests and fixtures, never at collection time."""
from __future__ import annotations

import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _shop_installed(settings):
    if "shop" not in settings.INSTALLED_APPS:
        pytest.skip("add 'shop' to INSTALLED_APPS to run the demo shop's tests")
    settings.ROOT_URLCONF = "tests.shop.urls"


@pytest.fixture
def post(client):
    """POST JSON to /shop/api/<path> with an optional Idempotency-Key."""

    def send(path: str, body=None, key: str | None = None, **query):
        headers = {"Idempotency-Key": key} if key else {}
        qs = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        raw = body if isinstance(body, (str, bytes)) else __import__("json").dumps(body or {})
        return client.post(f"/shop/api/{path}{qs}", data=raw, content_type="application/json", headers=headers)

    return send


@pytest.fixture
def log(client):
    def read(**query):
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return client.get(f"/shop/api/calls/?{qs}").json()

    return read
