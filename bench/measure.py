"""Measurements and the parent side of the child protocol (see ``bench.child``).

A ``Measurement`` is one figure of one system (``value`` in ``units``) or, when the system
could not run, the reason (``error``); the report turns pairs of them into ratios.
"""
from __future__ import annotations

import json
import os
import selectors
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.child import PREFIX

REPO = Path(__file__).resolve().parent.parent
LOGS = REPO / "var" / "bench" / "logs"


@dataclass
class Measurement:
    key: str
    system: str
    scenario: str
    variant: str
    units: str
    value: float | None = None
    error: str = ""
    detail: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.value is not None and not self.error

    def as_dict(self) -> dict:
        return asdict(self)


class ChildError(RuntimeError):
    """A child failed to prepare or run; the message is the child's own error line."""


def child_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO), env.get("PYTHONPATH", "")] if p)
    env.update({k: str(v) for k, v in (extra or {}).items()})
    return env


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]; enough for p50/p99 over hundreds of samples."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def log_path(name: str) -> Path:
    """Where a child's stderr goes: a pipe nobody drains would block a chatty child."""
    LOGS.mkdir(parents=True, exist_ok=True)
    return LOGS / f"{name}.log"


def log_tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:].strip()
    except OSError:
        return ""


def _read_protocol(proc: subprocess.Popen, deadline: float, log: Path) -> dict:
    """The next protocol message of ``proc``; other output lines are skipped."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChildError("timed out waiting for the child")
            if not sel.select(timeout=remaining):
                continue
            line = proc.stdout.readline()
            if not line:
                raise ChildError(f"child exited (rc={proc.wait()}): {log_tail(log)}")
            if line.startswith(PREFIX):
                message = json.loads(line[len(PREFIX):])
                if message["kind"] == "error":
                    raise ChildError(f"{message['phase']}: {message['error']}")
                return message
    finally:
        sel.unregister(proc.stdout)


def run_processes(target: str, params: dict, *, processes: int, n_per_process: int,
                  env: dict | None = None, timeout: float = 600.0, before_go=None, after_go=None) -> dict:
    """Run ``target`` in ``processes`` children that start together; aggregate their figures.

    Children prepare (untimed) and report READY; then all get GO at once. ``elapsed`` spans
    the earliest start to the latest end (CLOCK_MONOTONIC is system-wide on Linux).
    ``after_go(t_go)``, when given, runs in the parent right after GO and its return value
    is kept as ``after``: used to wait for asynchronous completion (Celery workers).
    ``before_go()`` runs once every child is prepared: a baseline that excludes warm-ups.
    """
    deadline = time.monotonic() + timeout
    name = target.rpartition(".")[2].replace(":", "-")
    logs = [log_path(f"{name}-{i}") for i in range(processes)]
    procs = []
    try:
        for log in logs:
            with open(log, "w") as err:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "bench.child", target, json.dumps({**params, "n": n_per_process})],
                    cwd=REPO, env=child_env(env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=err, text=True, bufsize=1,
                ))
        for proc, log in zip(procs, logs):
            _read_protocol(proc, deadline, log)
        before = before_go() if before_go else None
        t_go = time.monotonic()
        for proc in procs:
            proc.stdin.write("GO\n")
            proc.stdin.flush()
        after = after_go(t_go) if after_go else None
        done = [_read_protocol(proc, deadline, log) for proc, log in zip(procs, logs)]
        for proc in procs:
            proc.stdin.close()
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    start = min(d["start"] for d in done)
    end = max(d["end"] for d in done)
    total = sum(d["n"] for d in done)
    return {"t_go": t_go, "start": start, "end": end, "elapsed": end - start, "total": total,
            "rate": total / (end - start) if end > start else float("nan"),
            "children": [d["extra"] for d in done], "before": before, "after": after}
