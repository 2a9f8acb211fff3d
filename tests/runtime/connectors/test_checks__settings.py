"""The connector layer reads the real Django settings, and checks them at start-up."""
from __future__ import annotations

import pytest

from runtime.connectors import CallRequest, execute
from runtime.connectors.breaker import BreakerConfig


@pytest.fixture
def override():
    from django.conf import settings

    if not settings.configured:
        pytest.skip("needs Django settings (run without -p no:django)")
    from django.test import override_settings

    return lambda **flowyard: override_settings(FLOWYARD={**settings.FLOWYARD, **flowyard})


def test_project_settings_allow_the_demo_handlers(override):
    with override():
        outcome = execute(CallRequest("python", {"handler": "runtime.demo_handlers.score_credit"},
                                      {"amount": 1, "income": 10}, "k", 5.0))
    assert outcome.status == "ok"


def test_the_allow_list_comes_from_settings(override):
    with override(PYTHON_HANDLERS=["myproject.handlers."]):
        outcome = execute(CallRequest("python", {"handler": "runtime.demo_handlers.score_credit"}, {}, "k", 5.0))
    assert outcome.status == "failed" and "not allowed" in outcome.message


def test_breaker_defaults_and_overrides(override):
    with override():
        assert BreakerConfig.from_settings() == BreakerConfig(5, 30.0, 60.0)
    with override(BREAKER={"failure_threshold": 2, "reset_timeout": "PT1M"}):
        assert BreakerConfig.from_settings() == BreakerConfig(2, 60.0, 60.0)


def test_system_checks_report_bad_settings(override):
    from runtime.connectors.checks import check_connector_settings

    with override():
        assert check_connector_settings() == []
    with override(PYTHON_HANDLERS="runtime.demo_handlers.", BREAKER={"failure_threshold": 0},
                  CONNECTORS={"ghost": "nowhere.Ghost"}):
        ids = sorted(e.id for e in check_connector_settings())
    assert ids == ["connectors.E001", "connectors.E002", "connectors.E003"]
    with override(PYTHON_HANDLERS=["."]):  # an empty prefix would allow every module
        assert [e.id for e in check_connector_settings()] == ["connectors.E001"]
