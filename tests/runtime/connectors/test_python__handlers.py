"""The python connector: allow-list, calling convention and exception mapping."""
from __future__ import annotations

import json

import pytest

from runtime.connectors import BusinessError, CallRequest, ConfigurationError, RetryableError, execute
from runtime.connectors.python import handler_allowed, load_handler

HERE = __name__
seen: list[tuple[dict, str]] = []


def record(inputs, *, idempotency_key):
    seen.append((inputs, idempotency_key))
    return {"got": inputs}


def refuse(inputs, *, idempotency_key):
    raise BusinessError("CARD_DECLINED", "card declined", result={"reason": "limit"})


def later(inputs, *, idempotency_key):
    raise RetryableError("upstream busy", retry_after=3)


def crash(inputs, *, idempotency_key):
    return inputs["missing"]


def not_json(inputs, *, idempotency_key):
    return {"when": object()}


def _private(inputs, *, idempotency_key):
    return "never"


def call(handler: str, inputs=None, key="i:e"):
    return execute(CallRequest("python", {"handler": handler}, inputs or {}, key, 5.0))


@pytest.fixture
def allowed(connector_settings):
    connector_settings["PYTHON_HANDLERS"] = [f"{HERE}.", "runtime.demo_handlers.score_credit"]
    return connector_settings


def test_calls_the_handler_with_inputs_and_idempotency_key(allowed):
    seen.clear()
    outcome = call(f"{HERE}.record", {"amount": 3}, key="inst-2:exec-5")

    assert outcome.status == "ok" and outcome.result == {"got": {"amount": 3}}
    assert seen == [({"amount": 3}, "inst-2:exec-5")]
    assert outcome.endpoint == f"python:{HERE}.record"


def test_a_handler_outside_the_allow_list_is_refused_before_import(allowed):
    outcome = call("os.system", {"cmd": "true"})

    assert outcome.status == "failed"
    assert "not allowed" in outcome.message and "PYTHON_HANDLERS" in outcome.message
    assert call("runtime.demo_handlers.reserve_stock").status == "failed"  # exact entry only


def test_prefix_entries_do_not_expose_what_a_module_imported(allowed):
    outcome = call(f"{HERE}.execute")  # imported into this module, defined elsewhere

    assert outcome.status == "failed" and "not defined in" in outcome.message


def test_private_names_and_odd_paths_are_never_allowed():
    allow = ["pkg."]
    assert handler_allowed("pkg.mod.fn", allow) == "pkg."
    for path in ("pkg.mod._private", "pkg", "pkg..x", "pkg.mod.fn()", "pkg.mod fn", "", None):
        assert handler_allowed(path, allow) is None
    with pytest.raises(ConfigurationError):
        load_handler(f"{HERE}._private", [f"{HERE}."])


def test_missing_module_or_function_is_a_configuration_failure(allowed):
    allowed["PYTHON_HANDLERS"].append("nowhere.")
    assert "cannot import" in call("nowhere.fn").message
    assert "has no function" in call(f"{HERE}.absent").message
    assert call(f"{HERE}.absent").status == "failed"


def test_business_error_becomes_a_business_error_outcome(allowed):
    outcome = call(f"{HERE}.refuse")

    assert outcome.status == "business_error"
    assert outcome.error_code == "CARD_DECLINED" and outcome.message == "card declined"
    assert outcome.result == {"reason": "limit"}


def test_retryable_error_and_crashes_are_retryable(allowed):
    later_outcome = call(f"{HERE}.later")
    assert later_outcome.status == "retryable" and later_outcome.retry_after == 3

    crash_outcome = call(f"{HERE}.crash")
    assert crash_outcome.status == "retryable"
    assert crash_outcome.message == "KeyError: 'missing'"
    assert "Traceback" in crash_outcome.detail and "in crash" in crash_outcome.detail


def test_a_result_that_is_not_json_is_a_failure(allowed):
    outcome = call(f"{HERE}.not_json")

    assert outcome.status == "failed" and "JSON" in outcome.message


def test_repeated_crashes_open_the_handlers_breaker(allowed):
    for _ in range(3):
        call(f"{HERE}.crash")

    assert call(f"{HERE}.crash").circuit_open
    assert call(f"{HERE}.record").status == "ok"  # another handler, another endpoint


def test_demo_credit_scoring_through_the_connector(allowed):
    outcome = call("runtime.demo_handlers.score_credit", {"amount": 10_000, "income": 80_000})

    assert outcome.result == {"score": 12.5, "ratio": 0.125, "decision": "approve"}
    invalid = call("runtime.demo_handlers.score_credit", {"amount": 10, "income": 0})
    assert invalid.status == "business_error" and invalid.error_code == "INVALID_APPLICATION"
    json.dumps(outcome.result)
