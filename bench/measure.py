"""Measurements and the parent side of the child protocol (see ``bench.child``).

A ``Measurement`` is one figure of one system (``value`` in ``units``) or, when the system
could not run, the reason (``error``); the report turns pairs of them into ratios.
"""
from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.child import PREFIX

REPO = Path(__file__).resolve().parent.parent
#: per BENCH_NAMESPACE, so two bench runs in one checkout keep their own child logs
LOGS = REPO / "var" / "bench" / f"logs{os.environ.get('BENCH_NAMESPACE', '')}"


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


class _Forked:
    """A measured child forked by a zygote, talking the protocol over two FIFOs, with the
    part of ``Popen``'s interface the bench uses."""

    returncode = None

    def __init__(self, pid: int, fifo_dir: str):
        self.pid = pid
        self.fifo_dir = fifo_dir
        self.stdin = open(os.path.join(fifo_dir, "in"), "w", buffering=1)
        self.stdout = open(os.path.join(fifo_dir, "out"), "r")

    def poll(self):
        try:
            os.kill(self.pid, 0)  # the zygote ignores SIGCHLD, so an ended child is gone at once
            return None
        except ProcessLookupError:
            self.returncode = -1
            return -1

    def send_signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None):
        deadline = time.monotonic() + (timeout if timeout is not None else 3600)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.005)
        for f in (self.stdin, self.stdout):
            try:
                f.close()
            except OSError:
                pass
        shutil.rmtree(self.fifo_dir, ignore_errors=True)
        return self.returncode


class Zygote:
    """``python -m bench.child --zygote``: one interpreter per environment that has set Django
    up and imported ``preload``, forking the children of that environment (milliseconds,
    where each new interpreter costs one to five seconds on the shared machine)."""

    def __init__(self, env: dict | None, preload: list[str], timeout: float = 120.0):
        self.log = log_path("zygote")
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "bench.child", "--zygote", json.dumps(preload)],
                                         cwd=REPO, env=child_env(env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, text=True, bufsize=1)
        _read_protocol(self.proc, time.monotonic() + timeout, self.log)

    def spawn(self, target: str, params: dict, log: Path) -> _Forked:
        fifo_dir = tempfile.mkdtemp(prefix="bench-child-")
        for name in ("in", "out"):
            os.mkfifo(os.path.join(fifo_dir, name))
        pid = self._fork({"target": target, "params": params, "stderr": str(log),
                          "stdin": os.path.join(fifo_dir, "in"), "stdout": os.path.join(fifo_dir, "out")})
        return _Forked(pid, fifo_dir)

    def _fork(self, request: dict) -> int:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return _read_protocol(self.proc, time.monotonic() + 30, self.log)["pid"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


#: Environments whose children come from a zygote (``zygotes()``), by their items.
_ZYGOTE_ENVS: dict[tuple, list[str]] = {}
_ZYGOTES: dict[tuple, Zygote | None] = {}


def _env_key(env: dict | None) -> tuple:
    return tuple(sorted((env or {}).items()))


def fork_children_of(env: dict | None, preload: list[str]) -> None:
    """Children with exactly ``env`` are forked from a zygote (inside ``zygotes()``)."""
    _ZYGOTE_ENVS[_env_key(env)] = preload


@contextmanager
def zygotes():
    """Zygotes started inside this block live until it ends."""
    try:
        yield
    finally:
        for zygote in _ZYGOTES.values():
            if zygote:
                zygote.close()
        _ZYGOTES.clear()
        _ZYGOTE_ENVS.clear()


def _zygote(env: dict | None) -> Zygote | None:
    """The zygote for ``env`` (started on first use), or None when it has none."""
    key = _env_key(env)
    if key not in _ZYGOTE_ENVS:
        return None
    if key not in _ZYGOTES:
        try:
            _ZYGOTES[key] = Zygote(env, _ZYGOTE_ENVS[key])
        except ChildError:  # e.g. threads after the imports: spawn interpreters instead
            _ZYGOTES[key] = None
    return _ZYGOTES[key]


def _popen(target: str, params: dict, env: dict | None, log: Path):
    zygote = _zygote(env)
    if zygote:
        return zygote.spawn(target, params, log)
    with open(log, "w") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.child", target, json.dumps(params)],
            cwd=REPO, env=child_env(env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=err, text=True, bufsize=1,
        )


class _Children:
    """Child processes of one measurement: spawned, prepared (READY), then driven with GO."""

    def __init__(self, target: str, variants: list[tuple[dict, dict | None]], deadline: float, tag: str = ""):
        name = target.rpartition(".")[2].replace(":", "-")
        self.deadline = deadline
        self.logs = [log_path(f"{name}-{tag}{i}") for i in range(len(variants))]
        self.procs: list[subprocess.Popen] = []
        self.target, self.variants = target, variants

    def __enter__(self) -> "_Children":
        try:
            for (params, env), log in zip(self.variants, self.logs):
                self.procs.append(_popen(self.target, params, env, log))
            for i in range(len(self.procs)):
                self.read(i)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def go(self, i: int) -> None:
        self.procs[i].stdin.write("GO\n")
        self.procs[i].stdin.flush()

    def read(self, i: int) -> dict:
        return _read_protocol(self.procs[i], self.deadline, self.logs[i])

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                for proc in self.procs:
                    proc.stdin.close()
                    proc.wait(timeout=max(1.0, self.deadline - time.monotonic()))
        finally:
            for proc in self.procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


def run_processes(target: str, params: dict, *, processes: int, n_per_process: int,
                  env: dict | None = None, timeout: float = 600.0, before_go=None, after_go=None) -> dict:
    """Run ``target`` in ``processes`` children that start together; aggregate their figures.

    Children prepare (untimed) and report READY; then all get GO at once. ``elapsed`` spans
    the earliest start to the latest end (CLOCK_MONOTONIC is system-wide on Linux).
    ``after_go(t_go)``, when given, runs in the parent right after GO and its return value
    is kept as ``after``: used to wait for asynchronous completion (Celery workers).
    ``before_go()`` runs once every child is prepared: a baseline that excludes warm-ups.
    """
    variants = [({**params, "n": n_per_process}, env)] * processes
    with _Children(target, variants, time.monotonic() + timeout) as children:
        before = before_go() if before_go else None
        t_go = time.monotonic()
        for i in range(processes):
            children.go(i)
        after = after_go(t_go) if after_go else None
        done = [children.read(i) for i in range(processes)]
    start = min(d["start"] for d in done)
    end = max(d["end"] for d in done)
    total = sum(d["n"] for d in done)
    return {"t_go": t_go, "start": start, "end": end, "elapsed": end - start, "total": total,
            "rate": total / (end - start) if end > start else float("nan"),
            "children": [d["extra"] for d in done], "before": before, "after": after}


def run_alternating(target: str, variants: list[tuple[dict, dict | None]], *, rounds: int, n: int,
                    timeout: float = 600.0) -> list[list[float]]:
    """Rates of ``target`` under each (params, env) variant, measured alternately.

    One child per variant, all prepared (untimed) before the first round; then every round
    runs ``n`` in each child in turn, one at a time, the order reversed every other round
    (ABBA), so a load swing on a shared machine reaches every variant alike. Returns, per
    variant, the rate of each round: pair them by index for per-round ratios.
    """
    rates: list[list[float]] = [[] for _ in variants]
    order = list(range(len(variants)))
    with _Children(target, [({**p, "n": n}, env) for p, env in variants], time.monotonic() + timeout, "alt") as children:
        for round_ in range(rounds):
            for i in (order if round_ % 2 == 0 else order[::-1]):
                children.go(i)
                done = children.read(i)
                rates[i].append(done["n"] / (done["end"] - done["start"]))
    return rates
