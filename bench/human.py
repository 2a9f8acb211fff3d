"""The ``human`` scenario: complete a user task over the REST API, time until the next
task is announced on the assignee's inbox WebSocket (``ws/live/``).

Everything runs as in production's service mode: a real Daphne serving ``config.asgi`` on
127.0.0.1, Celery worker processes, PostgreSQL and Redis. The client (``HumanRunner``, in a
child process) is an inbox user ``bench`` with a session cookie for the socket and a token
for the API. One instance of ``human_loop`` (a user task in a loop) yields every sample:

    t0: POST /api/tasks/<id>/complete/ is sent
    t1: the socket receives {"type": "task", "task": <next id>, "state": "claimed"|"open"}

The HTTP answer arrives independently (its time is kept as ``http``); the next task's id
comes from the push itself, so a sample ends only when the push has arrived.
"""
from __future__ import annotations

import asyncio
import os
import time

from bench.measure import child_env, log_path
from bench.servers import daphne

PROCESS = "human_loop"
USER = "bench"
WARMUP = 10
OPEN = ("open", "claimed")


class HumanRunner:
    """Child side (``bench.child``): set up the inbox user, then time ``n`` completions."""

    def __init__(self, base_url: str, warmup: int = WARMUP, timeout: float = 10.0):
        self.base_url, self.warmup, self.timeout = base_url.rstrip("/"), warmup, timeout

    def prepare(self) -> None:
        from bench.flowyard_side import _setup, deploy

        _setup()
        from django.contrib.auth.models import User
        from django.test import Client
        from rest_framework.authtoken.models import Token

        self.key = deploy(PROCESS)["key"]
        user = User.objects.filter(username=USER).first() or User.objects.create_user(USER)
        self.token = Token.objects.get_or_create(user=user)[0].key
        client = Client()
        client.force_login(user)  # a session row, as a browser's login leaves one
        self.session = client.cookies["sessionid"].value

    def run(self, n: int) -> dict:
        return asyncio.run(self._run(n))

    async def _run(self, n: int) -> dict:
        import httpx
        from websockets.asyncio.client import connect

        ws_url = self.base_url.replace("http://", "ws://") + "/ws/live/"
        async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout,
                                     headers={"Authorization": f"Token {self.token}"}) as http, \
                connect(ws_url, origin=self.base_url, additional_headers={"Cookie": f"sessionid={self.session}"},
                        open_timeout=self.timeout) as ws:
            self.http, self.ws = http, ws
            hello = await self._next_message()
            if hello.get("type") != "hello":
                raise RuntimeError(f"the inbox socket said {hello!r} first, not hello")
            started = await http.post("/api/instances/", json={"process": self.key, "variables": {"stop": False}})
            if started.status_code != 201:
                raise RuntimeError(f"starting {self.key}: {started.status_code} {started.text[:300]}")
            self.instance = started.json()["id"]
            task = (await self._next_task(exclude=None))["task"]
            for _ in range(self.warmup):
                task, _, _ = await self._complete(task)
            samples, http_times = [], []
            for _ in range(n):
                task, push, answered = await self._complete(task)
                samples.append(push)
                http_times.append(answered)
        return {"samples": samples, "http": http_times, "instance": self.instance}

    async def _complete(self, task: int) -> tuple[int, float, float]:
        """Complete ``task``; (next task id, seconds until its push, seconds until the HTTP answer)."""
        t0 = time.perf_counter()

        async def post():
            response = await self.http.post(f"/api/tasks/{task}/complete/", json={"variables": {}})
            return response, time.perf_counter() - t0

        request = asyncio.ensure_future(post())
        pushed = await self._next_task(exclude=task)
        seconds = time.perf_counter() - t0
        response, answered = await request
        if response.status_code != 200:
            raise RuntimeError(f"completing task {task}: {response.status_code} {response.text[:300]}")
        return pushed["task"], seconds, answered

    async def _next_task(self, *, exclude: int | None) -> dict:
        """The first push announcing an active task of our instance other than ``exclude``."""
        deadline = time.monotonic() + self.timeout
        while True:
            message = await self._next_message(deadline - time.monotonic())
            if (message.get("type") == "task" and message.get("instance") == getattr(self, "instance", None)
                    and message.get("state") in OPEN and message.get("task") != exclude):
                return message

    async def _next_message(self, timeout: float | None = None) -> dict:
        import json

        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout=max(0.0, timeout or self.timeout))
        except TimeoutError:
            raise RuntimeError(f"no push on the inbox socket within {self.timeout:.0f}s") from None
        return json.loads(raw)


def measure(bench, n: int) -> None:
    """Parent side: workers + Daphne up, one child runs the samples, p50/p99 recorded."""
    from bench.measure import median, percentile, run_processes

    load_start = os.getloadavg()[0]
    env = child_env({**bench.flowyard_env, "ALLOWED_HOSTS": "127.0.0.1,localhost"})
    with bench.flowyard_workers(1), daphne(env, log_path("daphne-human")) as base_url:
        out = run_processes("bench.human:HumanRunner", {"base_url": base_url}, processes=1, n_per_process=n,
                            env=bench.flowyard_env, timeout=max(120.0, n * 2.0))
    child = out["children"][0]
    samples, http = child["samples"], child["http"]
    detail = {"samples": len(samples), "http_p50_ms": round(median(http) * 1000, 2),
              "http_p99_ms": round(percentile(http, 99) * 1000, 2), "max_ms": round(max(samples) * 1000, 2),
              "load_avg_1m": [round(load_start, 2), round(os.getloadavg()[0], 2)]}
    for q, value in (("p50", median(samples)), ("p99", percentile(samples, 99))):
        bench.record(f"flowyard.human.{q}", "Flowyard", "human", f"complete -> next task on inbox WebSocket, {q}",
                     "ms", value * 1000, **detail)
