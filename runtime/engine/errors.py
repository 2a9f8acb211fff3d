"""Errors the core raises when a step cannot complete.

An ``EngineError`` means the model or its data is broken at this point (no outgoing flow
matched, an expression failed, a loop never waits). The state passed to ``run()`` is then
half-updated and must be discarded: the previously persisted state is still valid, so the
store rolls back and records an incident naming ``node``/``token``.
BPMN errors (error end events, business failures of service calls) are not exceptions:
they are routed to error boundary events inside the step.
"""
from __future__ import annotations


class EngineError(Exception):
    def __init__(self, message: str, *, node: str | None = None, token: str | None = None):
        super().__init__(message)
        self.message = message
        self.node = node
        self.token = token

    def __str__(self) -> str:
        where = f" (node {self.node})" if self.node else ""
        return f"{self.message}{where}"


class StepLimitExceeded(EngineError):
    """The step executed more nodes than allowed without reaching a wait state."""


class Deadlock(EngineError):
    """Tokens wait at joins that can never fire and nothing else can move."""
