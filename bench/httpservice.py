"""A local JSON echo service on 127.0.0.1 for the ``http`` connector (``service10_http``).

Runs as its own process (``python -m bench.httpservice``) so the workers calling it and the
harness measuring it do not share a GIL with it. ``POST /echo`` answers the JSON body.

It stands in for a microservice that would run on its own machine; here it shares the
2 cores with the engine, PostgreSQL and Redis, so it costs as little as it can: an asyncio
protocol answering HTTP/1.1 keep-alive requests with a Content-Length body (http.server's
handler spent ~0.4 ms of CPU per request parsing headers, which the throughput figure then
charged to the engine).
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from contextlib import contextmanager

from bench.measure import REPO, child_env, log_path, log_tail
from bench.servers import stop

_HEAD_END = b"\r\n\r\n"


class EchoProtocol(asyncio.Protocol):
    """One connection: requests in, the same body out, in order (pipelining included)."""

    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(_HEAD_END)
            if head_end < 0:
                return
            length = 0
            for line in self.buffer[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            body = self.buffer[head_end + 4:end] or b"{}"
            self.buffer = self.buffer[end:]
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(body), body))


async def serve() -> None:
    server = await asyncio.get_running_loop().create_server(EchoProtocol, "127.0.0.1", 0)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await server.serve_forever()


def main() -> None:
    asyncio.run(serve())


@contextmanager
def echo_service():
    """Start the service; yield its base URL (``http://127.0.0.1:<port>``)."""
    log = log_path("httpservice")
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bench.httpservice"], cwd=REPO, env=child_env(),
                                stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"echo service did not start: {log_tail(log)}")
        yield f"http://127.0.0.1:{json.loads(line)['port']}"
    finally:
        stop(proc, timeout=5)


def direct_call_seconds(base_url: str, n: int) -> dict:
    """Per-call seconds of the same POST from this process, the baseline for service10_http."""
    import httpx

    samples = []
    with httpx.Client(timeout=10) as client:
        for i in range(n + 20):
            start = time.perf_counter()
            client.post(f"{base_url}/echo", json={"n": i}).raise_for_status()
            if i >= 20:
                samples.append(time.perf_counter() - start)
    return {"median": sorted(samples)[len(samples) // 2], "mean": sum(samples) / len(samples)}


def direct_handler_seconds(n: int) -> float:
    """Per-call seconds of ``bench.handlers.echo`` called directly (the python connector's baseline)."""
    from bench.handlers import echo

    start = time.perf_counter()
    for i in range(n):
        echo({"n": i}, idempotency_key=f"direct:{i}")
    return (time.perf_counter() - start) / n


if __name__ == "__main__":
    main()
