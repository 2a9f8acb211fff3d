"""Fixtures for orchestrating the demo shop over real HTTP: the shop served by a live server
on 127.0.0.1 in this process, the demo order saga with tiny backoffs, and a worker:
the embedded one on SQLite, a `celery worker` process (tests' settings) in service mode.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import ROOT, TEST_DIR, _test_database_env
from tests.orchestration.settings_overrides import FLOWYARD_OVERRIDES

SAGA = ROOT / "designer" / "demo" / "order_saga.bpmn"
QUEUE = "celery"  # the default queue every wake-up goes to


def saga_xml(*, retries: int | None = None, backoff: str = "PT0.05S", timeout: str | None = None) -> str:
    """The demo saga as shipped, with its retry policy rewritten for fast tests."""
    xml = SAGA.read_text(encoding="utf-8")
    xml = re.sub(r'flowyard:retryBackoff="[^"]*"', f'flowyard:retryBackoff="{backoff}"', xml)
    if retries is not None:
        xml = re.sub(r'flowyard:retries="[^"]*"', f'flowyard:retries="{retries}"', xml)
    if timeout is not None:
        xml = re.sub(r'flowyard:timeout="[^"]*"', f'flowyard:timeout="{timeout}"', xml)
    return xml


def deploy_saga(**policy):
    from designer.services import version_deploy

    # accept_warnings=False: the saga must deploy without a single finding.
    return version_deploy(xml=saga_xml(**policy)).version


def wait_for(predicate, *, timeout: float = 20.0, what: str = "condition", explain=None, every: float = 0.05):
    """Poll until ``predicate()`` is truthy; on timeout fail with ``explain()`` in the message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    detail = f"\n{explain()}" if explain else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


def describe_instance(instance_id: int) -> str:
    """What an instance is doing: for failure messages."""
    from runtime.models import HistoryEvent, Incident, ProcessInstance, ServiceCall

    row = ProcessInstance.objects.filter(pk=instance_id).values("status", "has_incident").first()
    calls = [f"  {c.node_id}: {c.state} attempt {c.attempt}/{c.max_attempts} {c.last_error[:120]!r}"
             for c in ServiceCall.objects.filter(instance_id=instance_id).order_by("pk")]
    incidents = [f"  incident {i.state}: {i.message[:160]!r}" for i in Incident.objects.filter(instance_id=instance_id)]
    tail = [f"  {h.type} {h.node_id or ''} {h.from_state or ''}->{h.to_state or ''}"
            for h in HistoryEvent.objects.filter(instance_id=instance_id).order_by("-seq")[:8]][::-1]
    return "\n".join([f"instance #{instance_id}: {row}", *calls, *incidents, "  history tail:", *tail])


@dataclass
class Shop:
    """The demo shop behind a live server, seen from the test: its URL, faults and log."""

    url: str

    def fault(self, operation: str, **plan):
        from shop.services import fault_set

        return fault_set(operation=operation, **plan)

    def heal(self, operation: str | None = None) -> None:
        from shop.services import fault_clear

        fault_clear(operation=operation)

    def log(self, **filters) -> dict:
        from shop.selectors import call_log

        return call_log(limit=5000, **filters)

    def calls(self, order_id: str) -> list[tuple[str, int, str]]:
        """(operation, status, outcome) of every call made for the order, oldest first."""
        return [(c["operation"], c["status"], c["outcome"]) for c in self.log(order_id=order_id)["calls"]]

    def effects(self, order_id: str) -> list[str]:
        return [e["operation"] for e in self.log(order_id=order_id)["effects"]]

    def variables(self, order_id: str, **extra) -> dict:
        return {"shop": self.url, "order_id": order_id, "amount": 30, "address": "1 Main St", **extra}


@pytest.fixture
def shop(live_server, transactional_db, settings):
    """The shop at a real HTTP server on 127.0.0.1, empty, with breakers closed."""
    if "shop" not in settings.INSTALLED_APPS:
        pytest.skip("add 'shop' to INSTALLED_APPS and /shop/ to the URLs to orchestrate the demo shop")
    from runtime.connectors import http
    from runtime.connectors.breaker import reset_breakers
    from shop.services import shop_reset

    settings.FLOWYARD = {**settings.FLOWYARD, **FLOWYARD_OVERRIDES}
    shop_reset()
    reset_breakers()
    yield Shop(live_server.url)
    # Kept-alive sockets hold live-server threads, and with them database connections
    # that would stop the test database from being dropped.
    http.close_client()
    reset_breakers()


@pytest.fixture
def worker(request, shop):
    """Whatever runs service calls in this topology; the shop fixture comes first so the
    tests' settings are in place before the embedded worker starts."""
    if settings.EMBEDDED:
        request.getfixturevalue("embedded_worker")
    else:
        request.getfixturevalue("worker_process")


# -- Celery worker processes (service mode) -----------------------------------------------

def worker_env() -> dict[str, str]:
    env = _test_database_env()
    env["DJANGO_SETTINGS_MODULE"] = "tests.orchestration.worker_settings"
    return env


class WorkerProcess:
    """One `celery -A config worker` process with the tests' settings and its own log."""

    def __init__(self, name: str, *, concurrency: int = 8):
        self.name = f"{name}@{os.uname().nodename}"
        self.log_path = Path(TEST_DIR) / f"orchestration-{name}.log"
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "threads",
             "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-heartbeat",
             "--without-mingle", "--without-gossip", "-n", self.name],
            cwd=ROOT, env=worker_env(), stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self, timeout: float = 30.0) -> "WorkerProcess":
        from config.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.name} exited with {self.proc.returncode}: {self.log_tail()}")
            if app.control.ping(destination=[self.name], timeout=0.5):
                return self
        raise AssertionError(f"worker {self.name} did not answer a ping within {timeout}s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acks, whatever it was doing is lost."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def only_our_workers():
    """Other test modules may leave a session-wide worker running with the default settings;
    it must not take our wake-ups (its breaker would wait 30 s). Remote control tells it to
    stop consuming the queue for the block, and to resume after."""
    from config.celery import app

    others = sorted({name for reply in app.control.ping(timeout=1.0) or [] for name in reply})
    if others:
        app.control.cancel_consumer(QUEUE, destination=others, reply=True, timeout=2.0)
    try:
        yield
    finally:
        # Wake-ups our block left queued (duplicates the reconciler re-sent while calls were in
        # flight) must not reach the resumed workers: their writes raced the test database's
        # flush (TRUNCATE) into a deadlock.
        app.control.purge()
        if others:
            app.control.add_consumer(QUEUE, destination=others, reply=True, timeout=2.0)


@pytest.fixture(scope="package")
def worker_process(django_db_setup, django_db_blocker):
    if not settings.SERVICE_MODE:
        pytest.skip("a separate worker process needs service mode (PostgreSQL + Redis)")
    with only_our_workers():
        process = WorkerProcess("orch").wait_ready()
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture
def scheduler_jobs():
    """The scheduler's jobs (due timers, the reconciler) run here every 0.2 s."""
    from django.db import connections

    from runtime import jobs

    stop = threading.Event()

    def loop():
        try:
            while not stop.is_set():
                for job in (jobs.fire_due_timers, jobs.reconcile_wakeups):
                    try:
                        job()
                    except Exception:  # logged, like the real scheduler; the test's asserts decide
                        import logging

                        logging.getLogger(__name__).exception("scheduler job failed")
                stop.wait(0.2)
        finally:
            connections.close_all()

    thread = threading.Thread(target=loop, name="orchestration-scheduler", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)
