"""Fixtures for connector tests: a real HTTP server on 127.0.0.1 and connector settings.

Nothing here needs Django: ``connector_settings`` patches the connector's settings reader,
so these tests also run with ``-p no:django``.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runtime.connectors import breaker, conf


class FakeService(ThreadingHTTPServer):
    """Answers by path: ``/echo``, ``/status/<code>``, ``/slow/<seconds>``, ``/text``,
    ``/redirect``. Counts requests per path and keeps the last request of each."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter[str] = Counter()
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address):
        pass  # a client that timed out closed its socket; the broken pipe is expected

    def total(self) -> int:
        with self.lock:
            return sum(self.hits.values())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the pooled client can reuse connections

    def log_message(self, *args):
        pass

    def _reply(self, status: int, body, content_type="application/json", headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = {"method": self.command, "path": self.path, "headers": dict(self.headers),
                  "header_names": [name.lower() for name in self.headers.keys()],
                  "body": json.loads(body) if body else None, "client_port": self.client_address[1]}
        with self.server.lock:
            self.server.hits[self.path] += 1
            self.server.requests.append(record)
        parts = self.path.strip("/").split("/")
        if parts[0] == "echo":
            self._reply(200, {"method": self.command, "body": record["body"],
                              "idempotency_key": self.headers.get("Idempotency-Key")})
        elif parts[0] == "status":
            code = int(parts[1])
            headers = {"Retry-After": "7"} if code in (429, 503) else {}
            self._reply(code, {"error": f"planned {code}"}, headers=headers)
        elif parts[0] == "slow":
            time.sleep(float(parts[1]))
            self._reply(200, {"slow": True})
        elif parts[0] == "text":
            self._reply(200, b"plain words", content_type="text/plain")
        elif parts[0] == "empty":
            self.send_response(204)
            self.end_headers()
        elif parts[0] == "redirect":
            self._reply(302, b"", headers={"Location": "/echo"})
        else:
            self._reply(404, {"error": "no such path"})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


@pytest.fixture
def service():
    server = FakeService()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class FakeClock:
    def __init__(self, start: float = 1_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    """A fake clock driving a fresh in-process breaker store."""
    fake = FakeClock()
    monkeypatch.setattr(breaker, "_memory_store", breaker.MemoryStore(clock=fake))
    return fake


@pytest.fixture
def connector_settings(monkeypatch, clock):
    """A mutable stand-in for settings.FLOWYARD (memory breaker, threshold 3, reset 10 s)."""
    values = {"PYTHON_HANDLERS": [], "CONNECTORS": {},
              "BREAKER": {"failure_threshold": 3, "reset_timeout": 10, "probe_timeout": 60}}
    monkeypatch.setattr(conf, "flowyard", lambda key, default=None: values.get(key, default))
    monkeypatch.setattr(conf, "redis_url", lambda: values.get("REDIS_URL", ""))
    return values
