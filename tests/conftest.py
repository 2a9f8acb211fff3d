"""Fixtures shared by the whole suite: the embedded worker, a real Celery worker process,
a Daphne server subprocess and a headless Chromium for browser tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# Where subprocess logs and screenshots go; `make test` sets it (default var/test).
TEST_DIR = Path(os.environ.get("FLOWYARD_TEST_DIR", ROOT / "var" / "test"))
TEST_DIR.mkdir(parents=True, exist_ok=True)
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _fresh_version_caches():
    """Rolled-back tests reuse version ids; the per-version caches assume ids are never
    reused (true in production: versions are immutable and never deleted)."""
    from runtime import jobs, selectors
    from runtime.store import graphs

    graphs.clear()
    selectors._start_cache.clear()
    selectors._latest.clear()
    jobs._synced_versions.clear()
    yield


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _test_database_env() -> dict[str, str]:
    """Environment that points a subprocess at the database the tests are using."""
    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SQLITE_PATH"}}
    env["FLOWYARD_TESTING"] = "0"
    env["PYTHONPATH"] = str(ROOT)
    if db["ENGINE"].endswith("sqlite3"):
        if db["NAME"] in (":memory:", "") or "mode=memory" in str(db["NAME"]):
            pytest.skip("a subprocess needs a file-based SQLite test database (set SQLITE_TEST_PATH; `make test` does)")
        env["SQLITE_PATH"] = str(db["NAME"])
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        env["REDIS_URL"] = settings.REDIS_URL
        env["SECRET_KEY"] = settings.SECRET_KEY
    return env


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on port {port} within {timeout}s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def embedded_worker(transactional_db):
    """The in-process Celery worker + scheduler that `make run` uses, for this test only:
    left running, its scheduler would fire other tests' timers behind their backs."""
    if not settings.EMBEDDED:
        pytest.skip("the embedded worker runs only in the embedded topology")
    if settings.DATABASES["default"]["TEST"].get("NAME") is None:
        pytest.skip("the embedded worker needs a file-based SQLite test database (SQLITE_TEST_PATH)")
    from config.embedded import start_embedded_worker, stop_embedded_worker

    start_embedded_worker()
    yield
    stop_embedded_worker()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real `celery worker` process against Redis and the PostgreSQL test database."""
    if not settings.SERVICE_MODE:
        pytest.skip("a separate worker process needs service mode (PostgreSQL + Redis)")
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    env = _test_database_env()
    log = open(TEST_DIR / "celery-worker.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "threads", "--concurrency", "4",
         "--loglevel", "WARNING", "--without-heartbeat", "--without-mingle", "--without-gossip", "-n", "test@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    yield proc
    _stop(proc)


@pytest.fixture(scope="module")
def live_server_url(django_db_setup, django_db_blocker):
    """Daphne serving config.asgi (with its embedded worker) in a subprocess on 127.0.0.1.
    Module-scoped: its scheduler must not outlive the module and fire other tests' timers."""
    port = _free_port()
    env = _test_database_env()
    env["FLOWYARD_EMBEDDED_WORKER"] = "1" if settings.EMBEDDED else "0"
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    log = open(TEST_DIR / "daphne.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API keeps an event loop running while it is open,
    which would break the asyncio tests of other modules."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Debian's Chromium is missing in CI (make test installs it with apt-get)")
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page_errors():
    """Collects console errors and page exceptions of a Playwright page: `page_errors.watch(page)`."""

    class Watcher(list):
        def watch(self, page):
            page.on("console", lambda msg: msg.type == "error" and self.append(f"console: {msg.text}"))
            page.on("pageerror", lambda exc: self.append(f"pageerror: {exc}"))
            page.on("response", lambda r: r.status >= 400 and self.append(f"http {r.status}: {r.url}"))
            return page

    return Watcher()
