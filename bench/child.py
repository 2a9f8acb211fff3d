"""Child-process entry point for measured runs: prepare, say READY, wait for GO, run, report.

    python -m bench.child module:Runner '{"param": ...}'
    python -m bench.child --zygote '["module", ...]'   # see bench.measure.Zygote


Every measured system runs in its own interpreter so Django settings, connection pools
and imports never leak between systems, and so "2 processes" means two real processes.
A runner is any class with ``prepare()`` (imports, setup, warm-up: not timed) and
``run(n) -> dict`` (timed; called again for every further GO). Protocol lines start with
``@@BENCH`` so stray prints are ignored.

A zygote sets Django up once (a second or more per interpreter on a loaded machine),
imports the modules it is told to, then forks one child per request; each forked child
talks over its own FIFOs exactly as a spawned one does over its pipes.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback

PREFIX = "@@BENCH "


def emit(kind: str, **data) -> None:
    sys.stdout.write(PREFIX + json.dumps({"kind": kind, **data}) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    target, params = argv[0], json.loads(argv[1])
    n = int(params.pop("n"))
    try:
        module_name, _, class_name = target.partition(":")
        runner = getattr(importlib.import_module(module_name), class_name)(**params)
        runner.prepare()
    except Exception as exc:  # reported to the parent, which turns it into an "n/a" row
        emit("error", phase="prepare", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        return 1
    emit("ready")
    # GO runs ``n`` once; the parent may send GO again (alternating measurements), and ends
    # the child by closing stdin.
    while sys.stdin.readline().strip() == "GO":
        start = time.monotonic()
        try:
            extra = runner.run(n) or {}
        except Exception as exc:
            emit("error", phase="run", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
            return 1
        end = time.monotonic()
        emit("done", start=start, end=end, n=n, extra=extra)
    close = getattr(runner, "close", None)
    if close:
        close()
    return 0


def zygote(preload: list[str]) -> int:
    """Serve fork requests (one JSON line each) until stdin closes."""
    import signal
    import threading

    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        import django

        django.setup()
    for module in preload:
        importlib.import_module(module)
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        from django.db import connections

        connections.close_all()  # nothing open may be shared with the children
    if threading.active_count() > 1:  # forking a threaded process is not safe
        emit("error", phase="zygote", error=f"{threading.active_count()} threads after the imports")
        return 1
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    emit("ready", pid=os.getpid())
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                stdin = os.open(request["stdin"], os.O_RDONLY)  # same order as the parent: no deadlock
                stdout = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                stderr = (os.dup(stdout) if request["stderr"] == request["stdout"] else
                          os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
                for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
                    os.dup2(fd, target)
                    os.close(fd)
                sys.stdin, sys.stdout = open(0, "r"), open(1, "w")
                sys.stderr = open(2, "w", buffering=1)
                code = main([request["target"], json.dumps(request["params"])])
            except BaseException:
                traceback.print_exc()
                code = 1
            exit_now(code)
        emit("forked", pid=pid)
    return 0


def exit_now(code: int) -> None:
    """Leave without the interpreter's teardown: a Django child spends ~0.6 s in it, per child,
    and there is nothing left to save (the parent has every figure, connections die with us)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--zygote"]:
        exit_now(zygote(json.loads(sys.argv[2]) if len(sys.argv) > 2 else []))
    exit_now(main(sys.argv[1:]))
