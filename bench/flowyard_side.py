"""Flowyard under test, through its public services only.

Everything here runs in child processes with Flowyard's own settings in service mode
(``DATABASE_URL`` = the dedicated ``flowyard_bench`` database, ``REDIS_URL`` = the bench's
Redis database). The adapter is the only place that knows the service signatures:

    designer.services.version_deploy(*, xml, user=None, accept_warnings=False) -> DeployResult
    runtime.services.instance_start(*, process_key, variables=None, ...) -> ProcessInstance

Extra keyword arguments are passed only when ``instance_start`` accepts them, so the bench
keeps working while the runtime's signature settles. ``python -m bench.flowyard_side probe``
says whether the pieces exist (one JSON line), and is how the harness decides to skip.
"""
from __future__ import annotations

import inspect
import json
import os
import sys
import time
from pathlib import Path

PROCESSES = Path(__file__).resolve().parent / "processes"
INSTANCE_TABLE = "runtime_processinstance"
DONE = "completed"
FAILED = ("failed", "terminated", "cancelled")
#: The public functions the bench calls; the probe reports which exist and their signatures.
NEEDED = {
    "designer.services": ["version_deploy"],
    "runtime.services": ["instance_start"],
}
#: Needed only for the ``human`` scenario (complete a task, then watch the inbox socket).
NEEDED_HUMAN = {
    "runtime.services": ["task_complete"],
    "runtime.consumers": ["LiveConsumer"],
}


def flowyard_env(*, database_url: str, redis_url: str) -> dict:
    """Service-mode settings for children and workers; bench handlers allow-listed."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-only-secret",
        "FLOWYARD_PYTHON_HANDLERS": "runtime.demo_handlers.,bench.handlers.",
        "FLOWYARD_EMBEDDED_WORKER": "0",
        "FLOWYARD_TESTING": "0",
        "LOG_LEVEL": "WARNING",
    }


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def probe() -> dict:
    """Which of the needed functions exist, with their signatures (runs after django.setup)."""
    import importlib

    found, missing = {}, []
    for group in (NEEDED, NEEDED_HUMAN):
        for module_name, names in group.items():
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:
                missing += [f"{module_name}.{n} ({type(exc).__name__}: {exc})" for n in names]
                continue
            for name in names:
                obj = getattr(module, name, None)
                if obj is None:
                    missing.append(f"{module_name}.{name}")
                    continue
                try:
                    found[f"{module_name}.{name}"] = str(inspect.signature(obj))
                except (TypeError, ValueError):
                    found[f"{module_name}.{name}"] = "(...)"
    core = [f"{m}.{n}" for m, names in NEEDED.items() for n in names]
    human = [f"{m}.{n}" for m, names in NEEDED_HUMAN.items() for n in names]
    return {"available": all(k in found for k in core), "human_available": all(k in found for k in human),
            "signatures": found, "missing": missing}


def deploy(process: str) -> dict:
    from designer.services import version_deploy

    xml = (PROCESSES / f"{process}.bpmn").read_text()
    result = version_deploy(xml=xml, user=None, accept_warnings=True)
    version = result.version
    return {"version_id": version.pk, "key": version.definition.key, "number": version.number}


def _start_callable():
    from runtime.services import instance_start

    accepted = inspect.signature(instance_start).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())

    def start(process_key: str, variables: dict, **extra):
        kwargs = {"process_key": process_key, "variables": dict(variables)}
        kwargs.update({k: v for k, v in extra.items() if takes_any or k in accepted})
        return instance_start(**kwargs)

    return start


def _status(instance) -> str:
    instance.refresh_from_db(fields=["status"])
    return str(instance.status)


def _flush_stats() -> None:
    """Make this backend's statistics visible now (PostgreSQL 15+); older servers flush
    them at most once a second, so wait that long."""
    from django.db import connection

    if connection.pg_version >= 150000:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
        with connection.cursor() as cursor:  # the flush happens when the backend next goes idle
            cursor.execute("SELECT 1")
    else:
        time.sleep(1.2)


class StartRunner:
    """``n`` calls of ``instance_start`` from this process, from ``threads`` threads.

    For processes with no wait state the instance completes inside the call (one
    transaction), so the timed loop is the throughput; with ``expect_done`` the last
    instance is checked. Database round trips are counted on a few untimed instances.

    With several threads each has its own database connection, as a web or worker
    process serving several requests at once does: while one waits for PostgreSQL (a
    durable commit is a disk flush), another runs the engine.
    """

    def __init__(self, process: str, variables: dict | None = None, expect_done: bool = True,
                 count_instances: int = 3, warmup: int = 5, settle: bool = True, threads: int = 1):
        self.process, self.variables = process, variables or {}
        self.expect_done, self.count_instances, self.warmup = expect_done, count_instances, warmup
        self.settle, self.threads = settle, threads

    def prepare(self) -> None:
        _setup()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.key = deploy(self.process)["key"]
        self.start = _start_callable()
        for _ in range(self.warmup):
            self._check(self.start(self.key, self.variables, business_key="bench-warmup"))
        self.queries = None
        if self.count_instances:
            with CaptureQueriesContext(connection) as queries:
                for _ in range(self.count_instances):
                    self.start(self.key, self.variables, business_key="bench-warmup")
            self.queries = len(queries) / self.count_instances
        if self.threads > 1:
            self._start_threads()
        if self.settle:  # the parent's pg_stat_database baseline must include our warm-up
            _flush_stats()

    def _check(self, instance) -> None:
        if self.expect_done and _status(instance) != DONE:
            raise RuntimeError(f"{self.process} instance {instance.pk} is {_status(instance)}, expected {DONE}")

    def run(self, n: int) -> dict:
        cpu = time.process_time()
        if self.threads > 1:
            out = self._run_threads(n)
        else:
            instance = None
            for _ in range(n):
                instance = self.start(self.key, self.variables, business_key="bench")
            self._check(instance)
            out = {"queries_per_instance": self.queries}
        # CPU of this process per instance (all threads): steadier than wall time on a shared box
        return {**out, "cpu_ms_per_instance": (time.process_time() - cpu) * 1000 / max(n, 1)}

    def _start_threads(self) -> None:
        """Threads that open their connection and warm up now (untimed), then wait for run()."""
        import threading

        from django.db import connection

        self._ready, self._go = threading.Barrier(self.threads + 1), threading.Event()
        self._shares: list[int] = []
        self._last, self._errors = [], []

        def work(index: int) -> None:
            try:
                self.start(self.key, self.variables, business_key="bench-warmup")
                self._ready.wait()
                self._go.wait()
                instance = None
                for _ in range(self._shares[index]):
                    instance = self.start(self.key, self.variables, business_key="bench")
                self._last.append(instance)
            except Exception as exc:  # noqa: BLE001 - re-raised by run()
                self._errors.append(exc)
                self._ready.abort()
            finally:
                connection.close()

        self._workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(self.threads)]
        for worker in self._workers:
            worker.start()
        self._ready.wait()

    def _run_threads(self, n: int) -> dict:
        self._shares[:] = [n // self.threads + (1 if i < n % self.threads else 0) for i in range(self.threads)]
        self._go.set()
        for worker in self._workers:
            worker.join()
        if self._errors:
            raise self._errors[0]
        for instance in self._last:
            self._check(instance)
        return {"queries_per_instance": self.queries, "threads": self.threads}


class LatencyRunner(StartRunner):
    """Sequential: start one instance, wait until it completes (workers do the work), repeat."""

    def __init__(self, process: str, variables: dict | None = None, poll: float = 0.005, timeout: float = 30.0):
        # 5 ms polls add ~2.5 ms per instance (0.25 ms per task); faster polling loads the 2-core box
        super().__init__(process, variables, expect_done=False, count_instances=0, warmup=0, settle=False)
        self.poll, self.timeout = poll, timeout

    def prepare(self) -> None:
        super().prepare()
        self._wait(self.start(self.key, self.variables, business_key="bench-warmup"))

    def _wait(self, instance) -> None:
        from runtime.models import ProcessInstance

        deadline = time.monotonic() + self.timeout
        while True:
            status = ProcessInstance.objects.filter(pk=instance.pk).values_list("status", flat=True).first()
            if status == DONE:
                return
            if status in FAILED or time.monotonic() > deadline:
                raise RuntimeError(f"{self.process} instance {instance.pk} stuck in {status}")
            time.sleep(self.poll)

    def run(self, n: int) -> dict:
        samples = []
        for _ in range(n):
            begin = time.perf_counter()
            self._wait(self.start(self.key, self.variables, business_key="bench"))
            samples.append(time.perf_counter() - begin)
        return {"samples": samples}


# --- parent side: completion watching over plain psycopg -----------------------------------

def max_instance_id(url: str) -> int:
    from bench.pg import connect

    with connect(url, autocommit=True) as conn:
        return conn.execute(f"select coalesce(max(id), 0) from {INSTANCE_TABLE}").fetchone()[0]


def wait_completed(url: str, *, after_id: int, expected: int, timeout: float, poll: float = 0.01) -> dict:
    """Poll until ``expected`` instances newer than ``after_id`` are completed; time it."""
    from bench.pg import connect

    polls = 0
    deadline = time.monotonic() + timeout
    with connect(url, autocommit=True) as conn:
        while True:
            done, failed = conn.execute(
                f"select count(*) filter (where status = %s), count(*) filter (where status = any(%s)) "
                f"from {INSTANCE_TABLE} where id > %s",
                [DONE, list(FAILED), after_id]).fetchone()
            polls += 1
            if done >= expected:
                return {"t_done": time.monotonic(), "polls": polls}
            if failed:
                raise RuntimeError(f"{failed} bench instances failed")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{done} of {expected} instances completed within {timeout:.0f}s")
            time.sleep(poll)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "probe"
    try:
        _setup()
        if command == "probe":
            answer = probe()
        elif command == "deploy":
            answer = {p: deploy(p) for p in argv[1:]}
        else:
            raise SystemExit(f"unknown command {command!r}")
    except Exception as exc:
        answer = {"available": False, "error": f"{type(exc).__name__}: {exc}"}
    print("@@BENCH " + json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
