"""``execute(request)``: one attempt of a service call, guarded by the endpoint's breaker.

This is the only place that turns what a connector did into a ``CallOutcome``, so every
connector type gets the same mapping: ``BusinessError`` -> ``business_error``,
``RetryableError`` and unexpected exceptions -> ``retryable`` (traceback in ``detail``),
``ConfigurationError`` or a non-JSON result -> ``failed``. It never raises for a remote or
handler failure; the caller (a Celery task) decides about retries with ``retry.next_delay``.

Breaker accounting: ``retryable`` outcomes count as failures of the endpoint; ``ok`` and
``business_error`` mean it answered, so they count as successes; ``failed`` (the call was
misconfigured) changes nothing but gives back a half-open probe slot. A success is not
sent to the breaker's store when ``allow()`` found nothing it would reset (the endpoint
known, closed, no failure counted): one store round trip per call instead of two.
"""
from __future__ import annotations

import json
import logging
import time
import traceback

from .base import (BUSINESS_ERROR, FAILED, OK, RETRYABLE, STATUSES, BusinessError, CallOutcome, CallRequest,
                   ConfigurationError, RetryableError)
from .breaker import breaker_for
from .registry import get_connector

log = logging.getLogger(__name__)
DETAIL_LIMIT = 8000


def _as_outcome(value) -> CallOutcome:
    if isinstance(value, CallOutcome):
        if value.status not in STATUSES:
            raise ConfigurationError(f"connector returned unknown status {value.status!r}")
        return value
    return CallOutcome(OK, result=value)


def _check_json(outcome: CallOutcome) -> CallOutcome:
    try:
        json.dumps(outcome.result, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return CallOutcome(FAILED, message=f"result is not JSON-serialisable: {exc}",
                           detail=repr(outcome.result)[:DETAIL_LIMIT])
    return outcome


def _attempt(connector, request: CallRequest) -> CallOutcome:
    try:
        return _check_json(_as_outcome(connector.call(request)))
    except BusinessError as exc:
        return _check_json(CallOutcome(BUSINESS_ERROR, result=exc.result, error_code=exc.code,
                                       message=exc.message, detail=exc.detail))
    except RetryableError as exc:
        return CallOutcome(RETRYABLE, message=exc.message or "retry requested", detail=exc.detail,
                           retry_after=exc.retry_after)
    except ConfigurationError as exc:
        return CallOutcome(FAILED, message=str(exc))
    except Exception as exc:  # a crashing handler is retried; the traceback goes to the incident
        return CallOutcome(RETRYABLE, message=f"{exc.__class__.__name__}: {exc}",
                           detail=traceback.format_exc()[-DETAIL_LIMIT:])


def execute(request: CallRequest) -> CallOutcome:
    """Run one attempt of ``request``; see the module docstring for the outcome mapping."""
    started = time.monotonic()
    try:
        connector = get_connector(request.connector)
        endpoint = request.endpoint or (connector.endpoint(request) if hasattr(connector, "endpoint")
                                        else request.connector)
    except ConfigurationError as exc:
        return CallOutcome(FAILED, message=str(exc))
    except Exception as exc:  # a custom connector's endpoint() is configuration too
        return CallOutcome(FAILED, message=f"connector {request.connector!r}: {exc.__class__.__name__}: {exc}")
    breaker = breaker_for(endpoint)
    if not breaker.allow():
        return CallOutcome(RETRYABLE, message=f"circuit open for {endpoint}", endpoint=endpoint,
                           circuit_open=True, retry_after=breaker.retry_after())
    outcome = _attempt(connector, request)
    outcome.endpoint = endpoint
    outcome.elapsed = time.monotonic() - started
    if outcome.status == RETRYABLE:
        breaker.record_failure(outcome.message)
    elif outcome.status in (OK, BUSINESS_ERROR):
        if not breaker.success_changes_nothing:  # closed with no failures: nothing to reset
            breaker.record_success()
    else:
        breaker.release()
    log.log(logging.DEBUG if outcome.status == OK else logging.INFO,
            "connector %s %s -> %s%s in %.0f ms", request.connector, endpoint, outcome.status,
             f" {outcome.error_code}" if outcome.error_code else "", outcome.elapsed * 1000)
    return outcome
