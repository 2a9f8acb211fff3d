"""A local JSON echo service on 127.0.0.1 for the ``http`` connector (``service10_http``).

Runs as its own process (``python -m bench.httpservice``) so the workers calling it and the
harness measuring it do not share a GIL with it. ``POST /echo`` answers the JSON body.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.measure import REPO, child_env, log_path, log_tail
from bench.servers import stop


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a pooled httpx client expects
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


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
