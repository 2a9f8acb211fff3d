"""SpiffWorkflow, the reference pure-Python BPMN engine, on the bench's BPMN files.

Two runners: in memory (``BpmnWorkflow`` + ``do_engine_steps``, nothing saved), and
persisted the way spiff-arena does it: the workflow is serialised with
``BpmnWorkflowSerializer`` and written to PostgreSQL after every completed task (spiff-arena
saves from its ``did_complete_task`` delegate), each write its own committed transaction.
"""
from __future__ import annotations

from pathlib import Path

PROCESSES = Path(__file__).resolve().parent / "processes"


def load_spec(process: str):
    from SpiffWorkflow.bpmn.parser import BpmnParser

    parser = BpmnParser()
    parser.add_bpmn_file(str(PROCESSES / f"{process}.bpmn"))
    return parser.get_spec(process)


def spiff_version() -> str:
    try:
        from importlib.metadata import version

        return version("SpiffWorkflow")
    except Exception:
        return "unavailable"


class MemoryRunner:
    """Instances run to completion in memory; the upper bound for an engine in Python."""

    def __init__(self, process: str, warmup: int = 20):
        self.process, self.warmup = process, warmup

    def prepare(self) -> None:
        self.spec = load_spec(self.process)
        self._run(self.warmup)

    def _run(self, n: int) -> int:
        from SpiffWorkflow.bpmn import BpmnWorkflow

        steps = 0
        for _ in range(n):
            workflow = BpmnWorkflow(self.spec)
            workflow.do_engine_steps()
            if not workflow.is_completed():
                raise RuntimeError(f"{self.process} did not complete in SpiffWorkflow")
            steps = len(workflow.get_tasks())
        return steps

    def run(self, n: int) -> dict:
        return {"spiff_tasks_per_instance": self._run(n)}


class PersistedRunner(MemoryRunner):
    """Serialise and save the whole workflow after every task, like spiff-arena."""

    TABLE = "spiff_workflow_state"

    def __init__(self, process: str, url: str, warmup: int = 5):
        super().__init__(process, warmup)
        self.url = url

    def prepare(self) -> None:
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

        from bench.pg import connect

        self.serializer = BpmnWorkflowSerializer()
        self.conn = connect(self.url, autocommit=True)
        self.conn.execute(f"create table if not exists {self.TABLE} (id bigserial primary key, "
                          "process text not null, status text not null, serialization jsonb not null, "
                          "updated_at timestamptz not null default now())")
        super().prepare()

    def _run(self, n: int) -> int:
        from SpiffWorkflow.bpmn import BpmnWorkflow

        self.saves = 0
        for _ in range(n):
            workflow = BpmnWorkflow(self.spec)
            row_id = self.conn.execute(
                f"insert into {self.TABLE} (process, status, serialization) values (%s, 'running', %s) returning id",
                [self.process, self.serializer.serialize_json(workflow)]).fetchone()[0]

            def save(task, workflow=workflow, row_id=row_id):
                status = "completed" if workflow.is_completed() else "running"
                self.conn.execute(
                    f"update {self.TABLE} set serialization = %s, status = %s, updated_at = now() where id = %s",
                    [self.serializer.serialize_json(workflow), status, row_id])
                self.saves += 1

            workflow.do_engine_steps(did_complete_task=save)
            if not workflow.is_completed():
                raise RuntimeError(f"{self.process} did not complete in SpiffWorkflow")
        return self.saves // max(n, 1)

    def run(self, n: int) -> dict:
        return {"saves_per_instance": self._run(n)}

    def close(self) -> None:
        self.conn.close()
