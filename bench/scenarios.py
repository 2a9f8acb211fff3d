"""The scenarios of issue 9: Flowyard measured next to its references in the same run.

Flowyard runs on PostgreSQL + Redis. Processes without a wait state (``straight10``,
``fork_join``) complete inside ``instance_start``, so they are measured as in-process starts
from 1 and 2 processes; ``service10`` goes through real ``celery -A config worker``
processes and is timed from the first start until every instance is ``completed``.
"""
from __future__ import annotations

import time

from bench import flowyard_side, history, human, pg
from bench.httpservice import direct_call_seconds, direct_handler_seconds, echo_service
from bench.measure import median, percentile, run_alternating, run_processes, zygotes
from bench.references import FULL, QUICK, STEPS, References, Sizes  # noqa: F401 (re-exported)
from bench.workers import celery_workers, keep_workers, purge, stop_workers

#: Threads for the "1 process, several threads" start figure: enough to keep one core busy
#: while other threads wait for PostgreSQL's durable commits.
START_THREADS = 4
#: In this order; the scenarios with Celery workers come last and in a row, so they share the pools.
SCENARIOS = ["pg_limit", "straight10", "fork_join", "history_growth", "celery", "service10", "workers", "human"]
#: The worker apps each scenario starts (``bench.workers.keep_workers`` keeps them for the next one).
WORKER_APPS = {"celery": {"bench.celery_ref"}, "service10": {"config"}, "workers": {"config", "bench.celery_ref"},
               "human": {"config"}}
FLOWYARD = "Flowyard"
FLOWYARD_SCENARIOS = {"straight10", "fork_join", "service10", "workers", "history_growth", "human"}


class Bench(References):
    def run(self, scenarios: list[str]) -> None:
        with zygotes(), keep_workers():  # start-ups cost seconds: see bench.measure.Zygote
            self._run(scenarios)

    def _run(self, scenarios: list[str]) -> None:
        timings = self.notes.setdefault("scenario_seconds", {})
        if self.wants("flowyard") and set(scenarios) & FLOWYARD_SCENARIOS:
            self.log("preparing Flowyard (database flowyard_bench)")
            began = time.monotonic()
            self.prepare_flowyard()
            timings["prepare"] = round(time.monotonic() - began, 1)
            if self.flowyard_problem:
                self.log(f"  Flowyard: {self.flowyard_problem}")
        chosen = [name for name in SCENARIOS if name in scenarios]
        for name, following in zip(chosen, chosen[1:] + [""]):
            self.log(f"scenario {name}")
            began = time.monotonic()
            getattr(self, f"scenario_{name}")()
            # consecutive scenarios share worker pools (WORKER_APPS); idle ones stay out of the rest
            stop_workers(keep_apps=WORKER_APPS.get(following, set()))
            timings[name] = round(time.monotonic() - began, 1)
            self.log(f"  ({timings[name]:.1f}s)")

    # --- scenarios ---------------------------------------------------------------------
    def scenario_pg_limit(self) -> None:
        self.pg_limit()

    def scenario_celery(self) -> None:
        self.celery(workers=1)

    def scenario_straight10(self) -> None:
        for _ in range(self.sizes.rounds):  # alternately, medians kept (Sizes.rounds)
            self.flowyard_starts("straight10", 1)
            self.flowyard_starts("straight10", 1, threads=START_THREADS)
            self.spiff("straight10")
        self.viewflow()
        self.flowyard_starts("straight10", 2)

    def scenario_fork_join(self) -> None:
        for _ in range(self.sizes.rounds):
            self.flowyard_starts("fork_join", 1)
            self.flowyard_starts("fork_join", 1, threads=START_THREADS)
            self.spiff("fork_join")
        if 2 in self.sizes.reference_processes:  # no goal uses it; quick mode saves the seconds
            self.flowyard_starts("fork_join", 2)

    def scenario_service10(self) -> None:
        if not self.wants("flowyard"):
            return
        direct = direct_handler_seconds(10_000) * 1000
        self.record("direct.handler_ms", "Python", "service10", "bench.handlers.echo called directly", "ms", direct)
        keys = [(f"flowyard.{p}.{k}", FLOWYARD, "service10", k, u) for p in ("service10", "service10_http")
                for k, u in (("task_ms", "ms"), ("overhead_ms", "ms"), ("w1", "inst/s"))]
        self.attempt(keys, self._service10)

    def _service10(self) -> None:
        """One worker pool for all four figures: starting workers costs seconds."""
        self.require_flowyard()
        with self.flowyard_workers(1), echo_service() as base_url:
            self.service_latency("service10", {}, self.value("direct.handler_ms"))
            self.service_throughput("service10", {}, workers=1)
            direct = direct_call_seconds(base_url, 200)["median"] * 1000
            self.record("direct.http_ms", "httpx", "service10", "POST to the echo service directly", "ms", direct)
            self.service_latency("service10_http", {"svc": base_url}, direct)
            if self.sizes.http_throughput:
                self.service_throughput("service10_http", {"svc": base_url}, workers=1)

    def scenario_workers(self) -> None:
        if "flowyard.inproc.straight10.p2" not in self.results:
            self.flowyard_starts("straight10", 1)
            self.flowyard_starts("straight10", 2)
        if self.wants("flowyard"):
            for workers in (1, 2):
                key = f"flowyard.service10.w{workers}"
                if key not in self.results:
                    self.attempt([(key, FLOWYARD, "service10", f"{workers} worker process(es)", "inst/s")],
                                 lambda w=workers: self._workers(w))
        if 2 in self.sizes.reference_processes:  # no ratio uses it; quick mode saves the seconds
            self.celery(workers=2)
        if "celery.throughput.w1" not in self.results:
            self.celery(workers=1)

    def _workers(self, workers: int) -> None:
        self.require_flowyard()
        with self.flowyard_workers(workers):
            self.service_throughput("service10", {}, workers=workers)

    def scenario_history_growth(self) -> None:
        """straight10 on a database with ``history_instances`` completed instances vs an empty one.

        One prepared child per database; they run ``history_batch`` starts in turn for
        ``history_rounds`` rounds (ABBA order), so both see the same load; the ratio is the
        median of the rounds' filled / empty.
        """
        if not self.wants("flowyard"):
            return
        n = self.sizes.history_instances
        keys = [("flowyard.history.empty", FLOWYARD, "history_growth", "straight10 on an empty database", "inst/s"),
                ("flowyard.history.filled", FLOWYARD, "history_growth",
                 f"straight10 with {n:,} completed instances + history", "inst/s")]
        self.attempt(keys, lambda: self._history(keys))

    def _history(self, keys) -> None:
        self.require_flowyard()
        urls = self.history_databases(self.sizes.history_instances)
        params = {"process": "straight10", "settle": False, "count_instances": 0, "warmup": 20}
        rates = run_alternating("bench.flowyard_side:StartRunner",
                                [(params, {**self.flowyard_env, "DATABASE_URL": url}) for url in urls],
                                rounds=self.sizes.history_rounds, n=self.sizes.history_batch)
        ratios = [filled / empty for empty, filled in zip(*rates)]
        self.log("  rounds (inst/s): " + ", ".join(f"{e:.0f} / {f:.0f}" for e, f in zip(*rates))
                 + " (empty / filled)")
        for (key, system, scenario, variant, units), values in zip(keys, rates):
            self.record(key, system, scenario, variant, units, median(values), instances_per_round=self.sizes.history_batch,
                        round_rates=[round(v, 1) for v in values])
        self.results[keys[1][0]].detail.update(
            paired_with=keys[0][0], paired_ratio=median(ratios), round_ratios=[round(r, 3) for r in ratios],
            completed_instances=history.completed_count(urls[1]))
        self.log(f"  filled / empty: median {median(ratios):.2f} of {len(ratios)} rounds")

    def scenario_human(self) -> None:
        if not self.wants("flowyard"):
            return
        keys = [(f"flowyard.human.{q}", FLOWYARD, "human", f"complete -> next task on inbox WebSocket, {q}", "ms")
                for q in ("p50", "p99")]
        self.attempt(keys, self._human)

    def _human(self) -> None:
        self.require_flowyard()
        if not self.notes.get("flowyard_probe", {}).get("human_available"):
            raise RuntimeError("not available: needs runtime.services.task_complete and runtime.consumers.LiveConsumer")
        human.measure(self, self.sizes.human_samples)

    # --- Flowyard measurements ---------------------------------------------------------
    def flowyard_starts(self, process: str, procs: int, *, key: str = "", scenario: str = "", variant: str = "",
                        threads: int = 1) -> None:
        if not self.wants("flowyard"):
            return
        key = key or f"flowyard.inproc.{process}.p{procs}" + (f"t{threads}" if threads > 1 else "")
        variant = variant or (f"durable, instance_start in {procs} process(es)"
                              + (f" x {threads} threads" if threads > 1 else ", sequential"))
        self.attempt([(key, FLOWYARD, scenario or process, variant, "inst/s")],
                     lambda: self._flowyard_starts(key, process, procs, scenario or process, variant, threads))

    def _flowyard_starts(self, key, process, procs, scenario, variant, threads=1) -> None:
        self.require_flowyard()
        url = self.flowyard_url
        # only the sequential 1-process run reports transactions, so only it waits for the stats to settle
        settle = procs == 1 and scenario == process and threads == 1
        out = run_processes("bench.flowyard_side:StartRunner", {"process": process, "settle": settle,
                                                                "warmup": 3, "threads": threads,
                                                                "count_instances": 3 if threads == 1 else 0},
                            processes=procs,
                            n_per_process=self.sizes.flowyard_starts, env=self.flowyard_env,
                            before_go=lambda: pg.xact_stats(url))
        after = pg.xact_stats(url)
        delta = {k: after[k] - out["before"][k] for k in after}
        per_instance = {k: round(v / out["total"], 2) for k, v in delta.items()}
        queries = out["children"][0].get("queries_per_instance")
        cpu = median([c["cpu_ms_per_instance"] for c in out["children"] if "cpu_ms_per_instance" in c])
        self.record(key, FLOWYARD, scenario, variant, "inst/s", out["rate"], instances=out["total"],
                    seconds=round(out["elapsed"], 3), per_instance=per_instance, queries_per_instance=queries,
                    cpu_ms_per_instance=round(cpu, 3))
        if procs == 1 and threads == 1 and not key.startswith("flowyard.history"):
            steps = STEPS[process]
            if queries is not None:
                self.record(f"flowyard.queries.{process}", FLOWYARD, process, "DB round trips per instance", "queries", queries)
                self.record(f"flowyard.queries_per_step.{process}", FLOWYARD, process,
                            f"DB round trips per step ({steps} steps)", "queries/step", queries / steps)
            self.record(f"flowyard.tx.{process}", FLOWYARD, process, "committed transactions per instance",
                        "tx/inst", per_instance["xact_commit"])

    def flowyard_workers(self, count: int):
        """``celery -A config worker`` processes on the bench database, as compose runs them."""
        purge(self.flowyard_env["REDIS_URL"])  # wake-ups left by an earlier run name rows that are gone
        return celery_workers("config", count=count, broker=self.flowyard_env["REDIS_URL"], env=self.flowyard_env)

    def service_throughput(self, process: str, variables: dict, *, workers: int) -> None:
        """Start N instances at once from one process; time until all are completed (workers running)."""
        key = f"flowyard.{process}.w{workers}"
        variant = f"through {workers} Celery worker process(es), threads x8"
        self.attempt([(key, FLOWYARD, "service10", variant, "inst/s")],
                     lambda: self._service_throughput(key, process, variables, workers, variant))

    def _service_throughput(self, key, process, variables, workers, variant) -> None:
        self.require_flowyard()
        url, n = self.flowyard_url, self.sizes.service_instances
        watermark = {}

        def before_go():
            watermark["id"] = flowyard_side.max_instance_id(url)
            return pg.xact_stats(url)

        out = run_processes(
            "bench.flowyard_side:StartRunner",
            {"process": process, "variables": variables, "expect_done": False, "count_instances": 0, "warmup": 0,
             "settle": False},
            processes=1, n_per_process=n, env=self.flowyard_env, before_go=before_go,
            after_go=lambda t_go: flowyard_side.wait_completed(url, after_id=watermark["id"], expected=n,
                                                              timeout=self.sizes.wait_timeout))
        elapsed = out["after"]["t_done"] - out["t_go"]
        # Database sessions opened meanwhile (the starter's, the workers' and these stats
        # queries'): a worker keeps one per thread, so this stays near the thread count
        # however many instances ran. Reported by each backend when it flushes its stats
        # (at the latest when it ends), so a session still open may be counted later.
        sessions = pg.xact_stats(url).get("sessions", 0) - out["before"].get("sessions", 0)
        self.record(key, FLOWYARD, "service10", variant, "inst/s", n / elapsed, instances=n,
                    seconds=round(elapsed, 3), start_seconds=round(out["elapsed"], 3), db_sessions_opened=sessions)

    def service_latency(self, process: str, variables: dict, direct_ms: float | None) -> None:
        """Sequential instances; p50 / 10 is the time per service task (workers running)."""
        keys = [(f"flowyard.{process}.task_ms", FLOWYARD, "service10", "time per service task (sequential p50 / 10)", "ms"),
                (f"flowyard.{process}.overhead_ms", FLOWYARD, "service10", "overhead per task above the direct call", "ms")]
        self.attempt(keys, lambda: self._service_latency(process, variables, direct_ms))

    def _service_latency(self, process: str, variables: dict, direct_ms: float) -> None:
        self.require_flowyard()
        out = run_processes("bench.flowyard_side:LatencyRunner",
                            {"process": process, "variables": variables, "timeout": self.sizes.wait_timeout},
                            processes=1, n_per_process=self.sizes.latency_samples, env=self.flowyard_env)
        samples = out["children"][0]["samples"]
        per_task = median(samples) * 1000 / 10
        self.record(f"flowyard.{process}.task_ms", FLOWYARD, "service10", "time per service task (sequential p50 / 10)",
                    "ms", per_task, p99_instance_ms=percentile(samples, 99) * 1000, samples=len(samples))
        self.record(f"flowyard.{process}.overhead_ms", FLOWYARD, "service10", "overhead per task above the direct call",
                    "ms", per_task - (direct_ms or 0.0), direct_ms=direct_ms)
