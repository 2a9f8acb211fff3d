"""Registering connector types: in code and from settings."""
from __future__ import annotations

import pytest

from runtime.connectors import (BusinessError, CallOutcome, CallRequest, breaker_for, connector_names, execute,
                                load_configured_connectors, register_connector)
from runtime.connectors.registry import unregister_connector


class Upper:
    """A connector type of a project: upper-cases ``inputs["text"]``."""

    def endpoint(self, request):
        return "upper:" + request.config.get("region", "eu")

    def call(self, request):
        if not request.inputs.get("text"):
            raise BusinessError("EMPTY", "nothing to shout")
        return {"text": request.inputs["text"].upper()}


@pytest.fixture
def cleanup():
    names = []
    yield names
    for name in names:
        unregister_connector(name)


def request(connector, inputs=None, config=None):
    return CallRequest(connector, config or {}, inputs or {}, "i:e", 5.0)


def test_a_registered_class_is_used_by_name(connector_settings, cleanup):
    cleanup.append("upper")
    register_connector("upper", Upper)

    outcome = execute(request("upper", {"text": "hi"}))
    assert outcome.status == "ok" and outcome.result == {"text": "HI"}
    assert outcome.endpoint == "upper:eu"
    refused = execute(request("upper"))
    assert refused.status == "business_error" and refused.error_code == "EMPTY"


def test_a_plain_callable_and_the_decorator_form(connector_settings, cleanup):
    cleanup.extend(["echo", "later"])
    register_connector("echo", lambda req: req.inputs)

    @register_connector("later")
    def later(req):
        return CallOutcome("retryable", message="not yet")

    assert execute(request("echo", {"a": 1})).result == {"a": 1}
    outcome = execute(request("later"))
    assert outcome.status == "retryable" and outcome.endpoint == "later"
    assert breaker_for("later").snapshot()["failures"] == 1


def test_names_are_unique_unless_replaced(connector_settings, cleanup):
    cleanup.append("dup")
    register_connector("dup", Upper)
    with pytest.raises(ValueError):
        register_connector("dup", Upper)
    register_connector("dup", lambda req: "new", replace=True)
    assert execute(request("dup")).result == "new"
    with pytest.raises(ValueError):
        register_connector("Bad Name", Upper)
    with pytest.raises(TypeError):
        register_connector("notcallable", 42)


def test_connectors_from_settings(connector_settings, cleanup):
    cleanup.append("upper2")
    connector_settings["CONNECTORS"] = {"upper2": f"{__name__}.Upper", "broken": "nowhere.Thing"}

    problems = load_configured_connectors()
    assert "upper2" in connector_names() and "broken" not in connector_names()
    assert len(problems) == 1 and "broken" in problems[0]
    assert execute(request("upper2", {"text": "ok"})).result == {"text": "OK"}


def test_an_unknown_connector_fails_and_names_the_known_ones(connector_settings):
    outcome = execute(request("carrier-pigeon"))

    assert outcome.status == "failed"
    assert "unknown connector 'carrier-pigeon'" in outcome.message and "http" in outcome.message
