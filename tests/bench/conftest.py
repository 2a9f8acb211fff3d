"""Flowyard's bench databases for the service-mode smoke tests.

They carry a namespace derived from the test directory, so parallel test runs never share
one; Redis db ``BENCH_FLOWYARD_REDIS_DB`` (default 13) holds their queues.
"""
from __future__ import annotations

import hashlib
import os

import pytest

from bench import pg, references
from bench.workers import redis_available, redis_url
from tests.conftest import TEST_DIR


@pytest.fixture
def flowyard_bench(monkeypatch):
    """Point the bench's Flowyard at this test run's own databases and Redis db (skips
    when PostgreSQL or Redis does not answer)."""
    namespace = "_t" + hashlib.sha256(str(TEST_DIR.resolve()).encode()).hexdigest()[:6]
    redis_db = int(os.environ.get("BENCH_FLOWYARD_REDIS_DB", "13"))
    problem = pg.available() or redis_available(redis_url(redis_db))
    if problem:
        pytest.skip(problem)
    monkeypatch.setattr(references, "FLOWYARD_DB", f"flowyard_bench{namespace}")
    monkeypatch.setattr(references, "FLOWYARD_TEMPLATE_DB", f"flowyard_bench_template{namespace}")
    monkeypatch.setattr(references, "FLOWYARD_REDIS_DB", redis_db)
