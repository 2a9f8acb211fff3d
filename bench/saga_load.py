"""The demo order saga under load: throughput with 1 and 2 workers, overhead per service task.

    python bench/saga_load.py                       # 300 orders per worker count, 1 and 2 workers
    python bench/saga_load.py --orders 100 --workers 1,2,4 --json var/bench/saga.json

Service mode on this machine: a fresh PostgreSQL database ``flowyard_bench_saga`` on
``BENCH_PG_URL``'s server, Redis database 12 on ``BENCH_REDIS_URL``'s, real ``celery
worker`` processes (threads pool, concurrency 8, as compose runs them) and the demo shop
served by its own process on 127.0.0.1 (a threaded WSGI server, so the harness and the
workers do not share its GIL). Every order is three HTTP calls: reserve, charge, ship.

Figures:

* throughput: orders started as fast as 4 threads can start them, from the first start to
  the last completion, in instances per second;
* overhead per service task: orders run one at a time; each call's time in Flowyard (from
  the row that schedules it to the row that records its result) minus the HTTP round trip
  the worker measured, next to the same call made directly with a pooled httpx client.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DB_NAME = "flowyard_bench_saga"
REDIS_DB = 12


def _configure_env(database_url: str, redis_url: str) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "bench-saga",
           "DJANGO_SETTINGS_MODULE": "config.settings", "FLOWYARD_TESTING": "0", "LOG_LEVEL": "WARNING",
           "FLOWYARD_EMBEDDED_WORKER": "0"}
    os.environ.update(env)
    return env


# -- the shop in its own process ------------------------------------------------------------

def serve_shop() -> None:
    """Child mode: serve the whole Django project (the shop under /shop/) on a free port."""
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class Quiet(WSGIRequestHandler):
        disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall

        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(WSGIHandler())
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


def start_shop(env: dict) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, __file__, "serve-shop"], cwd=REPO, env={**os.environ, **env},
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"the shop process exited ({proc.wait()})")
    return proc, f"http://127.0.0.1:{json.loads(line)['port']}"


# -- measuring ------------------------------------------------------------------------------

def direct_calls(shop: str, orders: int) -> dict:
    """The three calls of an order made directly, one order after another (keep-alive)."""
    import httpx

    per_call, per_order = [], []
    with httpx.Client(timeout=10) as client:
        for n in range(orders):
            order = f"direct-{n}"
            began = time.perf_counter()
            for operation, body in (("inventory/reserve", {"items": [{"sku": "demo-widget", "qty": 1}]}),
                                    ("payments/charge", {"amount": 30}), ("shipping/ship", {"address": "x"})):
                t = time.perf_counter()
                answer = client.post(f"{shop}/shop/api/{operation}", json={"order_id": order, **body},
                                     headers={"Idempotency-Key": f"{order}:{operation}"})
                answer.raise_for_status()
                per_call.append(time.perf_counter() - t)
            per_order.append(time.perf_counter() - began)
    return {"call_ms": 1000 * statistics.median(per_call), "order_ms": 1000 * statistics.median(per_order)}


def variables(shop: str, order: str) -> dict:
    return {"shop": shop, "order_id": order, "amount": 30, "address": "1 Main St"}


def wait_done(prefix: str, count: int, timeout: float) -> float:
    """Wait until ``count`` orders of ``prefix`` ended; return when (monotonic)."""
    from django.db.models import Count

    from runtime.models import ProcessInstance

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = ProcessInstance.objects.filter(business_key__startswith=prefix, ended_at__isnull=False).count()
        if done >= count:
            return time.monotonic()
        time.sleep(0.05)
    states = dict(ProcessInstance.objects.filter(business_key__startswith=prefix)
                  .values_list("status").annotate(n=Count("id")))
    raise RuntimeError(f"{prefix}: only {states} after {timeout:.0f}s")


def throughput(shop: str, orders: int, tag: str) -> dict:
    from django.db import connection

    from runtime import services

    def start(n: int) -> None:
        try:
            services.instance_start(process_key="order_saga", business_key=f"{tag}-{n}",
                                    variables=variables(shop, f"{tag}-{n}"))
        finally:
            connection.close()

    began = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(start, range(orders)))
    started = time.monotonic()
    ended = wait_done(f"{tag}-", orders, timeout=60 + orders)
    return {"orders": orders, "seconds": round(ended - began, 2), "per_second": round(orders / (ended - began), 1),
            "start_seconds": round(started - began, 2)}


def sequential_overhead(shop: str, orders: int, tag: str) -> dict:
    """Orders one at a time: where each service task's time goes."""
    from runtime import services
    from runtime.models import HistoryEvent, ProcessInstance, ServiceCall

    for n in range(orders):
        services.instance_start(process_key="order_saga", business_key=f"{tag}-{n}", variables=variables(shop, f"{tag}-{n}"))
        wait_done(f"{tag}-{n}", 1, timeout=30)
    instances = ProcessInstance.objects.filter(business_key__startswith=f"{tag}-")
    in_flowyard, remote = [], []
    for call in ServiceCall.objects.filter(instance__in=instances, state="succeeded"):
        in_flowyard.append((call.finished_at - call.created_at).total_seconds())
    for data in HistoryEvent.objects.filter(instance__in=instances, type="service_call.state",
                                            to_state="succeeded").values_list("data", flat=True):
        remote.append(float(data.get("elapsed", 0)))
    per_order = [(i.ended_at - i.started_at).total_seconds() for i in instances]
    return {"orders": orders, "order_ms": 1000 * statistics.median(per_order),
            "task_ms": 1000 * statistics.median(in_flowyard), "connector_ms": 1000 * statistics.median(remote)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="orders per throughput run")
    parser.add_argument("--workers", default="1,2", help="worker process counts, comma-separated")
    parser.add_argument("--sequential", type=int, default=40, help="orders run one at a time for the overhead")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    from bench import pg
    from bench.workers import celery_workers, purge, redis_url

    problem = pg.available()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    env = _configure_env(pg.ensure_database(DB_NAME, recreate=True), redis_url(REDIS_DB))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    from designer.services import version_deploy

    version_deploy(xml=(REPO / "designer" / "demo" / "order_saga.bpmn").read_text())
    shop_proc, shop = start_shop(env)
    figures: dict = {"orders": args.orders, "workers": {}}
    try:
        figures["direct"] = direct_calls(shop, args.sequential)
        for count in [int(c) for c in args.workers.split(",") if c.strip()]:
            purge(env["REDIS_URL"])
            with celery_workers("config", count=count, broker=env["REDIS_URL"], env=env):
                throughput(shop, 20, f"warm{count}")  # connections, caches, the first deploy lookup
                if count == 1:
                    figures["sequential"] = sequential_overhead(shop, args.sequential, "seq")
                figures["workers"][count] = throughput(shop, args.orders, f"load{count}")
            print(f"{count} worker(s): {figures['workers'][count]}", flush=True)
    finally:
        shop_proc.terminate()
        shop_proc.wait(timeout=10)

    seq, direct = figures["sequential"], figures["direct"]
    figures["overhead_per_task_ms"] = round((seq["order_ms"] - direct["order_ms"]) / 3, 1)
    print(f"\nthe order saga (3 HTTP service tasks) on 127.0.0.1, {args.orders} orders per run")
    for count, row in figures["workers"].items():
        print(f"  {count} worker(s) x 8 threads: {row['per_second']:>6.1f} orders/s "
              f"({row['orders']} in {row['seconds']} s; starting them took {row['start_seconds']} s)")
    print(f"  one order alone: {seq['order_ms']:.1f} ms in Flowyard vs {direct['order_ms']:.1f} ms calling "
          f"the three services directly")
    print(f"  per service task: {seq['task_ms']:.1f} ms scheduled->result, of which {seq['connector_ms']:.1f} ms "
          f"HTTP in the worker (direct call {direct['call_ms']:.1f} ms); overhead "
          f"{figures['overhead_per_task_ms']:.1f} ms per task over calling the service directly")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve-shop"]:
        serve_shop()
    else:
        sys.exit(main())
