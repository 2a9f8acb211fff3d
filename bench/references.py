"""Bookkeeping shared by all scenarios, and the reference systems' measurements.

Each method records ``Measurement``s under stable keys (``spiff.persisted.straight10.p1``);
``bench.report`` pairs them into ratios. A system that cannot run records its reason
instead of a value, so one missing piece never hides the other figures.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass

from bench import celery_ref, flowyard_side, history, pg
from bench.measure import REPO, Measurement, child_env, fork_children_of, median, percentile, run_processes
from bench.workers import celery_workers, redis_available, redis_url

#: BENCH_NAMESPACE suffixes every database name, so two bench runs on one server never share one.
_NS = os.environ.get("BENCH_NAMESPACE", "")
SPIFF_DB, VIEWFLOW_DB, FLOWYARD_DB = f"bench_spiff{_NS}", f"bench_viewflow{_NS}", f"flowyard_bench{_NS}"
FLOWYARD_TEMPLATE_DB = f"flowyard_bench_template{_NS}"
#: history_growth: a fresh clone of the template, and one kept filled per instance count.
FLOWYARD_EMPTY_DB = f"flowyard_bench_empty{_NS}"
PGLIMIT_DB = f"bench_pglimit{_NS}"


def history_db(count: int) -> str:
    return f"flowyard_bench_h{count}{_NS}"


FLOWYARD_REDIS_DB = int(os.environ.get("BENCH_FLOWYARD_REDIS_DB", "12"))
#: What Flowyard's zygote imports before forking the children (see ``bench.measure.Zygote``).
FLOWYARD_PRELOAD = ["bench.flowyard_side", "runtime.services", "runtime.models", "designer.services",
                    "django.test", "django.test.utils"]
#: Flow nodes one instance passes through (start and end included): the "steps" per instance.
STEPS = {"straight10": 12, "fork_join": 13, "service10": 12, "service10_http": 12}


@dataclass(frozen=True)
class Sizes:
    spiff_memory: int
    per_process: int          # persisted Spiff, viewflow
    flowyard_starts: int      # in-process starts per process
    service_instances: int
    latency_samples: int
    celery_tasks: int
    celery_round_trips: int
    pg_seconds: float
    history_instances: int
    worker_counts: tuple[int, ...]
    wait_timeout: float
    http_throughput: bool = True   # quick mode times the http variant's latency only
    reference_processes: tuple[int, ...] = (1, 2)  # quick mode: 1 process for Spiff persisted, viewflow
    #: straight10 and fork_join measure Flowyard and SpiffWorkflow alternately this many
    #: times and keep each figure's median: the load of a shared machine swings within a
    #: minute, and one sequential pass put a swing into the ratio.
    rounds: int = 1
    #: history_growth: straight10 on the empty and the filled database in turn, this many
    #: rounds of this many starts each (one prepared child per database for all rounds).
    history_rounds: int = 4
    history_batch: int = 25
    #: human: completions timed (complete -> next task on the inbox socket)
    human_samples: int = 30


QUICK = Sizes(spiff_memory=100, per_process=20, flowyard_starts=100, service_instances=12, latency_samples=3,
              celery_tasks=500, celery_round_trips=30, pg_seconds=1, history_instances=10_000,
              worker_counts=(1, 2), wait_timeout=20, http_throughput=False, reference_processes=(1,))
FULL = Sizes(spiff_memory=2000, per_process=300, flowyard_starts=2000, service_instances=500, latency_samples=100,
             celery_tasks=10_000, celery_round_trips=500, pg_seconds=10, history_instances=1_000_000,
             worker_counts=(1, 2), wait_timeout=600, rounds=3, history_rounds=12, history_batch=500,
             human_samples=500)


def migrations_hash() -> str:
    """A hash of every migration file of the project (the template database's stamp)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(REPO.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def viewflow_stamp() -> str:
    """A hash of Django's and viewflow's versions and the viewflow project's files."""
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256(f"{version('django')} {version('django-viewflow')}".encode())
    for path in sorted((REPO / "bench" / "viewflow_project").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


class References:
    SYSTEMS = ("flowyard", "spiff", "viewflow", "celery", "pg")

    def __init__(self, sizes: Sizes, log=print, systems: tuple[str, ...] = SYSTEMS):
        self.sizes, self.log, self.systems = sizes, log, tuple(systems)
        self.results: dict[str, Measurement] = {}
        self.notes: dict = {}
        self.pg_problem = pg.available()
        self.flowyard_problem = "not checked"
        self.flowyard_url = pg.db_url(FLOWYARD_DB)
        self.flowyard_env = flowyard_side.flowyard_env(database_url=self.flowyard_url,
                                                       redis_url=redis_url(FLOWYARD_REDIS_DB))

    # --- bookkeeping -------------------------------------------------------------------
    def record(self, key, system, scenario, variant, units, value=None, error="", **detail) -> Measurement:
        previous = self.results.get(key)
        if previous is not None and previous.ok and value is not None and not error:  # another round: keep the median
            rounds = previous.detail.get("rounds", [previous.value]) + [value]
            value, detail = median(rounds), {**detail, "rounds": [round(v, 3) for v in rounds]}
        m = Measurement(key, system, scenario, variant, units, value, error, detail)
        self.results[key] = m
        shown = f"{value:,.2f} {units}" if value is not None else f"n/a ({error})"
        self.log(f"  {key:<42} {shown}")
        return m

    def attempt(self, keys: list[tuple], func) -> None:
        """Run ``func``; on failure record every key in ``keys`` as n/a with the reason."""
        try:
            func()
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            self.notes.setdefault("errors", []).append({"keys": [k[0] for k in keys], "traceback": traceback.format_exc()})
            for key, system, scenario, variant, units in keys:
                if key not in self.results:
                    self.record(key, system, scenario, variant, units, error=reason)

    def wants(self, system: str) -> bool:
        return system in self.systems

    def value(self, key: str) -> float | None:
        m = self.results.get(key)
        return m.value if m and m.ok else None

    def round_count(self, key: str) -> int:
        """How many figures ``key`` has had in this run (``record`` keeps their median)."""
        m = self.results.get(key)
        return 0 if m is None or not m.ok else len(m.detail.get("rounds", [m.value]))

    def latest(self, key: str) -> float | None:
        """The last figure recorded under ``key`` (its value is the median of all rounds)."""
        m = self.results.get(key)
        return None if m is None or not m.ok else m.detail.get("rounds", [m.value])[-1]

    # --- preparation -------------------------------------------------------------------
    def prepare_flowyard(self) -> None:
        """Probe the public services; when present, recreate ``flowyard_bench`` migrated.

        The migrated schema is kept as a template database, stamped with a hash of the
        migration files; a run clones it (under a second) and migrates only when a
        migration changed.
        """
        if self.pg_problem:
            self.flowyard_problem = self.pg_problem
            return
        self.migrations = stamp = migrations_hash()
        if pg.database_comment(FLOWYARD_TEMPLATE_DB) != stamp:
            template_env = {**self.flowyard_env, "DATABASE_URL": pg.ensure_database(FLOWYARD_TEMPLATE_DB, recreate=True)}
            migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO,
                                     env=child_env(template_env), capture_output=True, text=True, timeout=300)
            if migrate.returncode:
                self.flowyard_problem = f"migrate failed: {migrate.stderr.strip()[-300:]}"
                return
            pg.set_database_comment(FLOWYARD_TEMPLATE_DB, stamp)
        pg.clone_database(FLOWYARD_DB, FLOWYARD_TEMPLATE_DB)
        fork_children_of(self.flowyard_env, FLOWYARD_PRELOAD)
        probe, deployed = self._flowyard_commands(["probe"], ["deploy", *STEPS])
        self.notes["flowyard_probe"] = probe
        if not probe.get("available"):
            missing = ", ".join(probe.get("missing", [])) or probe.get("error", "")
            self.flowyard_problem = f"not available yet: {missing}"[:400]
            return
        self.notes["flowyard_deploy"] = deployed
        self.flowyard_problem = deployed.get("error", "")

    def history_databases(self, count: int) -> tuple[str, str]:
        """(empty, filled) database URLs for history_growth.

        The empty one is a fresh clone of the template. The filled one holds ``count``
        generated completed ``straight10`` instances; it is kept between runs while its
        stamp (migrations hash, generator version, count) matches, and only the instances
        earlier runs measured on it are deleted; otherwise it is cloned and generated anew.
        """
        empty = pg.clone_database(FLOWYARD_EMPTY_DB, FLOWYARD_TEMPLATE_DB)
        name, want = history_db(count), history.stamp(self.migrations, count)
        url = pg.db_url(name)
        info: dict = {"database": name}
        if pg.database_comment(name) == want and history.generated_count(url) == count:
            began = time.monotonic()
            info.update(reused=True, deleted=history.reset(url), reset_seconds=round(time.monotonic() - began, 1))
            self.log(f"  {name}: {count:,} generated instances kept from an earlier run")
        else:
            pg.clone_database(name, FLOWYARD_TEMPLATE_DB)
            # one real completed instance, written by the engine: the template of the rest
            run_processes("bench.flowyard_side:StartRunner",
                          {"process": "straight10", "warmup": 0, "count_instances": 0, "settle": False},
                          processes=1, n_per_process=1, env={**self.flowyard_env, "DATABASE_URL": url})
            self.log(f"  {name}: generating {count:,} completed instances ...")
            info.update(reused=False, **history.generate(url, count, log=self.log))
            pg.set_database_comment(name, want)
        self.notes["history_generated"] = info
        return empty, url

    def _flowyard_commands(self, *commands: list[str]) -> list[dict]:
        """Answers of ``bench.flowyard_side``'s probe and deploy, in one child of Flowyard's zygote."""
        try:
            out = run_processes("bench.references:FlowyardCommands", {"commands": list(commands)}, processes=1,
                                n_per_process=1, env=self.flowyard_env, timeout=300)
            return out["children"][0]["answers"]
        except Exception as exc:
            return [{"available": False, "error": f"{type(exc).__name__}: {exc}"[-300:]}] * len(commands)

    def require_flowyard(self) -> None:
        if self.flowyard_problem:
            raise RuntimeError(self.flowyard_problem)

    def require_pg(self) -> None:
        if self.pg_problem:
            raise RuntimeError(self.pg_problem)

    # --- references ----------------------------------------------------------------------
    def pg_limit(self) -> None:
        if not self.wants("pg"):
            return
        for clients in (1, 16):
            key = f"pg.limit.c{clients}"
            self.attempt([(key, "PostgreSQL", "pg_limit", f"{clients} clients", "tx/s")],
                         lambda c=clients, k=key: self._pg_limit(k, c))

    def _pg_limit(self, key: str, clients: int) -> None:
        self.require_pg()
        url = pg.ensure_database(PGLIMIT_DB)
        pg.limit_prepare(url)
        tps, tool = pg.limit_tps(url, clients, self.sizes.pg_seconds)
        self.record(key, "PostgreSQL", "pg_limit", f"{clients} clients, insert+update", "tx/s", tps, tool=tool)

    def celery(self, workers: int = 1) -> None:
        if not self.wants("celery"):
            return
        keys = [(f"celery.throughput.w{workers}", "Celery", "celery", f"{workers} worker", "tasks/s")]
        if workers == 1:
            keys += [("celery.rtt.p50", "Celery", "celery", "sequential round trip p50", "ms"),
                     ("celery.rtt.p99", "Celery", "celery", "sequential round trip p99", "ms")]
        self.attempt(keys, lambda: self._celery(workers))

    def _celery(self, workers: int) -> None:
        problem = redis_available(celery_ref.BROKER)
        if problem:
            raise RuntimeError(problem)
        with celery_workers("bench.celery_ref", count=workers, broker=celery_ref.BROKER):
            celery_ref.app.control.purge()
            celery_ref.throughput(min(200, self.sizes.celery_tasks))  # warm-up
            rate = celery_ref.throughput(self.sizes.celery_tasks)
            self.record(f"celery.throughput.w{workers}", "Celery", "celery", f"{workers} worker process(es), threads x8",
                        "tasks/s", rate, tasks=self.sizes.celery_tasks)
            if workers == 1:
                samples = celery_ref.round_trips(self.sizes.celery_round_trips)
                self.record("celery.rtt.p50", "Celery", "celery", "sequential round trip p50", "ms", median(samples) * 1000)
                self.record("celery.rtt.p99", "Celery", "celery", "sequential round trip p99", "ms", percentile(samples, 99) * 1000)
        celery_ref.app.close()

    def spiff(self, process: str) -> None:
        if not self.wants("spiff"):
            return
        from bench.spiff_ref import spiff_version

        system = f"SpiffWorkflow {spiff_version()}"
        key = f"spiff.memory.{process}.p1"
        self.attempt([(key, system, process, "in memory, 1 process", "inst/s")], lambda: self._rate(
            key, system, process, "in memory, 1 process", "bench.spiff_ref:MemoryRunner", {"process": process},
            1, self.sizes.spiff_memory))
        for procs in self.sizes.reference_processes:
            key = f"spiff.persisted.{process}.p{procs}"
            variant = f"persisted per step (JSON -> PostgreSQL), {procs} process(es)"
            self.attempt([(key, system, process, variant, "inst/s")], lambda k=key, v=variant, p=procs: self._spiff_persisted(
                k, system, process, v, p))

    def _spiff_persisted(self, key, system, process, variant, procs) -> None:
        self.require_pg()
        url = pg.ensure_database(SPIFF_DB)
        self._rate(key, system, process, variant, "bench.spiff_ref:PersistedRunner",
                   {"process": process, "url": url}, procs, self.sizes.per_process)

    def viewflow(self) -> None:
        if not self.wants("viewflow"):
            return
        for procs in self.sizes.reference_processes:
            key = f"viewflow.straight10.p{procs}"
            self.attempt([(key, "django-viewflow", "straight10", f"{procs} process(es)", "inst/s")],
                         lambda k=key, p=procs: self._viewflow(k, p))

    def _viewflow(self, key: str, procs: int) -> None:
        self.require_pg()
        from importlib.metadata import version

        url = pg.ensure_database(VIEWFLOW_DB)
        env = {"DJANGO_SETTINGS_MODULE": "bench.viewflow_project.settings", "BENCH_VIEWFLOW_DATABASE_URL": url}
        stamp = viewflow_stamp()  # the database is kept: migrate only when viewflow or its project changed
        if pg.database_comment(VIEWFLOW_DB) != stamp:
            subprocess.run([sys.executable, "-m", "django", "migrate", "--noinput", "-v0"], cwd=REPO,
                           env=child_env(env), check=True, capture_output=True, timeout=300)
            pg.set_database_comment(VIEWFLOW_DB, stamp)
        self._rate(key, f"django-viewflow {version('django-viewflow')}", "straight10",
                   f"10 function nodes, {procs} process(es)", "bench.viewflow_project.runner:Straight10Runner",
                   {}, procs, self.sizes.per_process, env=env)

    def _rate(self, key, system, scenario, variant, target, params, procs, n, env=None) -> dict:
        out = run_processes(target, params, processes=procs, n_per_process=n, env=env)
        self.record(key, system, scenario, variant, "inst/s", out["rate"], instances=out["total"],
                    seconds=round(out["elapsed"], 3), children=out["children"])
        return out


class FlowyardCommands:
    """Child runner: ``bench.flowyard_side``'s probe and deploy commands in one interpreter."""

    def __init__(self, commands: list[list[str]]):
        self.commands = commands

    def prepare(self) -> None:
        pass

    def run(self, n: int) -> dict:
        from bench import flowyard_side

        answers = []
        for command, *args in self.commands:
            try:
                flowyard_side._setup()
                answers.append(flowyard_side.probe() if command == "probe" else
                               {p: flowyard_side.deploy(p) for p in args})
            except Exception as exc:
                answers.append({"available": False, "error": f"{type(exc).__name__}: {exc}"})
        return {"answers": answers}
