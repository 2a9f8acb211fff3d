"""Connector settings, read from ``settings.FLOWYARD`` through runtime.conf on each use.

Keys (defaults and meanings in runtime/conf.py): ``PYTHON_HANDLERS``, ``CONNECTORS``,
``BREAKER``, ``HTTP``. Also read: ``settings.REDIS_URL`` (non-empty -> breaker state lives
in Redis). Outside a configured Django project (pure tests) the defaults apply.
"""
from __future__ import annotations

from typing import Any

from runtime.conf import DEFAULTS, flowyard_setting

BREAKER_DEFAULTS = DEFAULTS["BREAKER"]
HTTP_DEFAULTS = DEFAULTS["HTTP"]


def flowyard(key: str, default: Any = None) -> Any:
    return flowyard_setting(key) if key in DEFAULTS else default


def redis_url() -> str:
    from django.conf import settings

    return (getattr(settings, "REDIS_URL", "") or "") if settings.configured else ""


# The readers below go through ``flowyard`` so tests can replace that one function.
def python_handlers() -> list[str]:
    return list(flowyard("PYTHON_HANDLERS", []) or [])


def breaker_config() -> dict:
    return {**BREAKER_DEFAULTS, **(flowyard("BREAKER", {}) or {})}


def http_config() -> dict:
    return {**HTTP_DEFAULTS, **(flowyard("HTTP", {}) or {})}
