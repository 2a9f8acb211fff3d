"""Start-up checks of the connector settings (Django system checks, ids ``connectors.E001``-``E003``).

Register them once, e.g. in ``RuntimeConfig.ready()``::

    from django.core import checks
    from runtime.connectors.checks import check_connector_settings
    checks.register(check_connector_settings)
"""
from __future__ import annotations

import re

from django.core import checks

from . import conf
from .retry import duration_seconds

_ENTRY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\.?$")


def check_connector_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from .registry import load_configured_connectors

    found: list[checks.CheckMessage] = []
    handlers = conf.flowyard("PYTHON_HANDLERS", [])
    if isinstance(handlers, str) or not all(isinstance(h, str) and _ENTRY.match(h) for h in handlers or []):
        found.append(checks.Error(
            "FLOWYARD['PYTHON_HANDLERS'] must be a list of dotted paths or prefixes ending in '.'",
            hint="e.g. ['runtime.demo_handlers.', 'myproject.handlers.charge']; an empty entry is refused",
            id="connectors.E001"))
    for problem in load_configured_connectors():
        found.append(checks.Error(problem, hint="the value must be a dotted path to a connector class or callable",
                                  id="connectors.E002"))
    for problem in _breaker_problems(conf.breaker_config()):
        found.append(checks.Error(f"FLOWYARD['BREAKER'] is invalid: {problem}",
                                  hint="failure_threshold >= 1; reset_timeout, probe_timeout and local_cache "
                                       "in seconds or ISO 8601 durations",
                                  id="connectors.E003"))
    return found


def _breaker_problems(cfg: dict) -> list[str]:
    problems = []
    try:
        if int(cfg["failure_threshold"]) < 1:
            problems.append("failure_threshold must be at least 1")
    except (TypeError, ValueError) as exc:
        problems.append(f"failure_threshold: {exc}")
    for key in ("reset_timeout", "probe_timeout", "local_cache"):
        try:
            duration_seconds(cfg[key])
        except (TypeError, ValueError) as exc:
            problems.append(f"{key}: {exc}")
    return problems
