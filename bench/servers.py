"""Servers the bench starts on 127.0.0.1 for a run: a free port, Daphne, a clean stop."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from bench.measure import REPO, log_tail


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not gone within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def daphne(env: dict, log: Path, *, ready_timeout: float = 30.0):
    """``daphne config.asgi:application`` on a free port, with ``env`` as its whole
    environment; yields its base URL once it accepts connections."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"daphne exited (rc={proc.returncode}): {log_tail(log)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not listen within {ready_timeout:.0f}s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
