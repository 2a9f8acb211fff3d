"""A trivial child runner for the harness tests: no Django, no database."""
from __future__ import annotations

import os


class Counter:
    def __init__(self, fail: str = ""):
        self.fail, self.runs = fail, 0

    def prepare(self) -> None:
        if self.fail == "prepare":
            raise RuntimeError("asked to fail")

    def run(self, n: int) -> dict:
        self.runs += 1
        return {"pid": os.getpid(), "ppid": os.getppid(), "runs": self.runs, "n": n}
