#!/usr/bin/env python3
"""REST API load: requests/second and latency of ``POST /api/instances/`` and
``POST /api/tasks/<id>/complete/`` with N concurrent clients against one Daphne.

Standalone (HTTP only, no Django imports). Either point it at a running server::

    python bench/api_load.py --base-url http://127.0.0.1:8000 --token <staff token>

or let it serve one (migrate, make a superuser token, start Daphne on 127.0.0.1, stop it)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/flowyard_api REDIS_URL=redis://127.0.0.1:6379/5 \
    SECRET_KEY=x python bench/api_load.py --serve --clients 16 --requests 2000

Phase 1 starts ``--requests`` loan_approval instances (each runs a script task and parks
at a user task); phase 2 completes their review tasks (form validated, gateway, end). Each
phase is bounded by ``--requests`` and ``--max-seconds``. Latency is per request as the
client sees it (keep-alive connections, one per client).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from bench.servers import daphne

ROOT = Path(__file__).resolve().parent.parent
LOAN = ROOT / "tests" / "data" / "loan_approval.bpmn"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def phase(name: str, base: str, token: str, clients: int, jobs: list, max_seconds: float) -> dict:
    """Run ``jobs`` (a list of (method, path, json)) with ``clients`` concurrent clients."""
    queue: asyncio.Queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    results: list[dict] = []
    deadline = time.monotonic() + max_seconds

    async def client_loop() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60,
                                     headers={"Authorization": f"Token {token}"}) as client:
            while time.monotonic() < deadline:
                try:
                    method, path, body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                response = await client.request(method, path, json=body)
                latencies.append(time.perf_counter() - t0)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code < 300:
                    results.append(response.json())

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    ok = sum(n for s, n in statuses.items() if s < 300)
    return {
        "phase": name, "clients": clients, "requests": len(latencies), "ok": ok, "statuses": statuses,
        "seconds": round(elapsed, 3), "rps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1), "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None, "_results": results,
    }


async def run(base: str, token: str, clients: int, requests: int, max_seconds: float) -> list[dict]:
    async with httpx.AsyncClient(base_url=base, timeout=60, headers={"Authorization": f"Token {token}"}) as client:
        deployed = await client.post("/api/processes/deploy/", json={"xml": LOAN.read_text()})
        if deployed.status_code not in (200, 201):
            raise SystemExit(f"deploy failed: {deployed.status_code} {deployed.text[:300]}")
        # warm-up: the first requests compile the graph cache and open connections
        for _ in range(clients):
            await client.post("/api/instances/", json={"process": "loan_approval", "variables": {"amount": 1, "income": 1}})
    run_id = uuid.uuid4().hex[:8]
    starts = [("POST", "/api/instances/", {"process": "loan_approval", "business_key": f"load-{run_id}-{i}",
                                           "variables": {"amount": 1000 + i, "income": 3000}}) for i in range(requests)]
    first = await phase("POST /api/instances/", base, token, clients, starts, max_seconds)
    instance_ids = {r["id"] for r in first.pop("_results")}
    task_ids = []
    async with httpx.AsyncClient(base_url=base, timeout=60, headers={"Authorization": f"Token {token}"}) as client:
        offset = 0
        while True:
            response = await client.get("/api/tasks/", params={"process": "loan_approval", "state": "open",
                                                               "limit": 500, "offset": offset})
            if response.status_code != 200:
                raise SystemExit(f"listing tasks failed: {response.status_code} {response.text[:300]}")
            page = response.json()
            task_ids += [t["id"] for t in page["results"] if t["instance"] in instance_ids]
            if not page["next"]:
                break
            offset += len(page["results"])
    completes = [("POST", f"/api/tasks/{pk}/complete/", {"variables": {"decision": "approve"}}) for pk in task_ids]
    second = await phase("POST /api/tasks/<id>/complete/", base, token, clients, completes, max_seconds)
    second.pop("_results")
    return [first, second]


# -- --serve: a Daphne of our own ----------------------------------------------------------

def _manage(*args: str, env: dict) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout


def _settings_override(conn_max_age: int) -> dict:
    """Environment for a server whose persistent connections are overridden: a generated
    settings module in var/ (not part of the project) that changes only CONN_MAX_AGE."""
    folder = ROOT / "var" / "api_load"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "api_load_settings.py").write_text(
        "from config.settings import *  # noqa: F401,F403\n"
        f"DATABASES['default']['CONN_MAX_AGE'] = {conn_max_age}\n")
    return {"DJANGO_SETTINGS_MODULE": "api_load_settings", "PYTHONPATH": f"{folder}{os.pathsep}{ROOT}"}


@contextmanager
def serving(conn_max_age: int | None = None):
    """Migrate, make a token, run a Daphne of our own; yields (base URL, token)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    if conn_max_age is not None:
        env.update(_settings_override(conn_max_age))
    _manage("migrate", "--noinput", "-v0", env=env)
    token = _manage("shell", "-c", (
        "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token\n"
        "u = User.objects.filter(username='api-load').first() or User.objects.create_superuser('api-load', '', None)\n"
        "print(Token.objects.get_or_create(user=u)[0].key)"), env=env).strip().splitlines()[-1]
    with daphne(env, ROOT / "var" / "api_load_daphne.log") as base_url:
        yield base_url, token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("FLOWYARD_URL", ""))
    parser.add_argument("--token", default=os.environ.get("FLOWYARD_TOKEN", ""))
    parser.add_argument("--serve", action="store_true", help="migrate and start a Daphne on 127.0.0.1 for the run")
    parser.add_argument("--conn-max-age", type=int, default=None,
                        help="with --serve: override the server's CONN_MAX_AGE (0 = a connection per request)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="per phase")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per phase")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    with ExitStack() as stack:
        if args.serve:
            args.base_url, args.token = stack.enter_context(serving(args.conn_max_age))
        if not args.base_url or not args.token:
            parser.error("give --base-url and --token, or --serve")
        figures = asyncio.run(run(args.base_url, args.token, args.clients, args.requests, args.max_seconds))
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for f in figures:
            print(f"{f['phase']:<34} {f['clients']:>3} clients  {f['requests']:>5} req  {f['rps']:>7.1f} req/s  "
                  f"p50 {f['p50_ms']:>6.1f} ms  p99 {f['p99_ms']:>6.1f} ms  statuses {f['statuses']}")
    return 0 if all(set(f["statuses"]) <= {200, 201} for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
