"""Connectors: how a service task reaches the outside world, one attempt at a time.

The store's Celery task builds a ``CallRequest`` (expressions already evaluated, the
idempotency key fixed for the activity execution) and calls ``execute``; it gets back a
``CallOutcome`` and never an exception for a remote failure::

    from runtime.connectors import CallRequest, execute
    outcome = execute(CallRequest(connector="http", config={"method": "POST",
                      "url": "http://127.0.0.1:8000/shop/api/payments/charge", "headers": None,
                      "body": {"order": 7, "amount": 30}}, inputs={},
                      idempotency_key="42:exec-9", timeout=30.0))
    outcome.status   # "ok" | "retryable" | "business_error" | "failed"

=================  ===========================================================  =========
status             meaning                                                      engine
=================  ===========================================================  =========
``ok``             ``result`` is the answer (response JSON / handler return)     complete
``retryable``      5xx, 408/429, timeout, network error, handler crash,          retry per
                   ``RetryableError``, open circuit (``circuit_open=True``)      policy,
                                                                                 then incident
``business_error`` 4xx (``error_code="HTTP_402"``) or ``BusinessError(code)``     BPMN error
``failed``         unknown connector, handler not allow-listed, bad URL,         incident
                   result not JSON: configuration that no retry can fix          at once
=================  ===========================================================  =========

Retry timing lives in ``runtime.connectors.retry`` (``next_delay(policy, attempt)``), the
per-endpoint circuit breakers in ``runtime.connectors.breaker`` (``breaker_for``,
``breaker_states``).

Registering a connector type of your own (see docs/connectors.md)::

    from runtime.connectors import CallOutcome, BusinessError, register_connector

    class SmtpConnector:
        def endpoint(self, request):            # what the circuit breaker protects
            return "smtp:" + request.config.get("host", "localhost")

        def call(self, request):                # one attempt; return a result or a CallOutcome
            ...                                 # raise BusinessError / RetryableError as needed

    register_connector("smtp", SmtpConnector)   # e.g. in your AppConfig.ready()

or in settings: ``FLOWYARD["CONNECTORS"] = {"smtp": "myproject.connectors.SmtpConnector"}``.
A BPMN service task then says ``flowyard:connector="smtp"``; the store passes its config.
"""
from .base import (BUSINESS_ERROR, FAILED, OK, RETRYABLE, BusinessError, CallOutcome, CallRequest,
                   ConfigurationError, Connector, RetryableError)
from .breaker import breaker_for, breaker_states
from .calls import execute
from .registry import connector_names, get_connector, load_configured_connectors, register_connector

__all__ = [
    "BUSINESS_ERROR", "FAILED", "OK", "RETRYABLE", "BusinessError", "CallOutcome", "CallRequest",
    "ConfigurationError", "Connector", "RetryableError", "breaker_for", "breaker_states", "connector_names",
    "execute", "get_connector", "load_configured_connectors", "register_connector",
]
