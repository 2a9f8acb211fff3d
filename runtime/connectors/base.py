"""The connector contract: what a call asks for, what it can come back with, and the two
exceptions a connector or a Python handler raises to say which way it failed.

Kept free of Django and of any transport so the store, the engine's tests and third-party
connectors can all import it cheaply.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

Status = Literal["ok", "retryable", "business_error", "failed"]

#: The call did what it was asked; ``result`` goes into ``resultVariable``.
OK = "ok"
#: A technical failure that may pass (5xx, timeout, refused connection, open circuit,
#: a handler crash): retry per the task's policy, then raise an incident.
RETRYABLE = "retryable"
#: The service answered "no" (4xx, ``BusinessError``): a BPMN error with ``error_code``,
#: catchable by an error boundary event. Never retried.
BUSINESS_ERROR = "business_error"
#: A configuration or programming error that no retry can fix (unknown connector, handler
#: outside the allow-list, invalid URL, result that is not JSON): an incident at once.
FAILED = "failed"

STATUSES = (OK, RETRYABLE, BUSINESS_ERROR, FAILED)


@dataclass
class CallRequest:
    """One attempt of one service-task execution, with every expression already evaluated.

    ``config`` is connector specific: for ``http`` ``{"method", "url", "headers", "body"}``,
    for ``python`` ``{"handler": "dotted.path"}``. ``idempotency_key`` stays the same on
    every retry of one activity execution. ``timeout`` bounds this attempt, in seconds.
    ``endpoint`` overrides the circuit-breaker key the connector would derive.
    """

    connector: str
    config: dict
    inputs: dict
    idempotency_key: str
    timeout: float
    endpoint: str = ""


@dataclass
class CallOutcome:
    """What ``execute`` returns; it never raises for a remote or handler failure.

    ``detail`` carries what an incident should show (response body, traceback).
    ``retry_after`` is a hint in seconds (``Retry-After`` header, open circuit) that a
    scheduler may use instead of its own backoff when it is longer. ``circuit_open`` says
    the endpoint was not called at all.
    """

    status: Status
    result: Any = None
    error_code: str | None = None
    message: str = ""
    detail: str = ""
    endpoint: str = ""
    elapsed: float = 0.0
    retry_after: float | None = None
    circuit_open: bool = False

    @property
    def ok(self) -> bool:
        return self.status == OK


class BusinessError(Exception):
    """Raised by a handler or connector: the service refused, as the process may expect.

    Becomes a BPMN error with ``code``; ``result`` (JSON-able) is kept on the outcome.
    """

    def __init__(self, code: str, message: str = "", *, result: Any = None, detail: str = ""):
        super().__init__(message or code)
        self.code = str(code)
        self.message = message or str(code)
        self.result = result
        self.detail = detail


class RetryableError(Exception):
    """Raised by a handler or connector: try again later (counts against the retries)."""

    def __init__(self, message: str = "", *, retry_after: float | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.detail = detail


class ConfigurationError(Exception):
    """Raised by a connector when the task is set up wrongly; becomes a ``failed`` outcome."""


@runtime_checkable
class Connector(Protocol):
    """A connector type. ``call`` does one attempt; ``endpoint`` names what the circuit
    breaker protects (``scheme://host:port`` for HTTP, ``python:<path>`` for handlers)."""

    def call(self, request: CallRequest) -> CallOutcome | Any: ...

    def endpoint(self, request: CallRequest) -> str: ...
