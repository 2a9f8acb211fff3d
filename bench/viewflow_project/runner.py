"""Child runner: start ``Straight10Flow`` instances from code and check they finished."""
from __future__ import annotations

import os


class Straight10Runner:
    def __init__(self, warmup: int = 2):
        self.warmup = warmup

    def prepare(self) -> None:
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.viewflow_project.settings"
        import django

        django.setup()
        from bench.viewflow_project.flows import Straight10Flow

        self.flow = Straight10Flow
        self._run(self.warmup, check=True)

    def _run(self, n: int, check: bool = False):
        process = None
        for _ in range(n):
            process = self.flow.start.run()
            if check:
                self._check(process)
        return process

    @staticmethod
    def _check(process) -> None:
        process.refresh_from_db()
        if process.status != "DONE" or process.data.get("x10") != 10:
            raise RuntimeError(f"viewflow process {process.pk} ended {process.status} with {process.data}")

    def run(self, n: int) -> dict:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self._run(n - 1)
        with CaptureQueriesContext(connection) as queries:
            last = self._run(1)
        self._check(last)
        return {"queries_per_instance": len(queries)}
