"""Child-process entry point for measured runs: prepare, say READY, wait for GO, run, report.

    python -m bench.child module:Runner '{"param": ...}'

Every measured system runs in its own interpreter so Django settings, connection pools
and imports never leak between systems, and so "2 processes" means two real processes.
A runner is any class with ``prepare()`` (imports, setup, warm-up: not timed) and
``run(n) -> dict`` (timed; called again for every further GO). Protocol lines start with ``@@BENCH`` so stray prints are ignored.
"""
from __future__ import annotations

import importlib
import json
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
