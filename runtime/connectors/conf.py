"""Connector settings, read from ``settings.FLOWYARD`` on each use (tests override them).

Keys and defaults::

    FLOWYARD = {
        "PYTHON_HANDLERS": [],          # allowed handler paths; "pkg.mod." allows a prefix
        "CONNECTORS": {},               # {"name": "dotted.path.to.ConnectorOrCallable"}
        "BREAKER": {
            "enabled": True,
            "failure_threshold": 5,     # consecutive failures that open the circuit
            "reset_timeout": 30,        # seconds open before one half-open probe
            "probe_timeout": 60,        # seconds a probe may hold the half-open slot
        },
        "HTTP": {"max_connections": 100, "max_keepalive": 20, "max_response_bytes": 5_000_000},
    }

Also read: ``settings.REDIS_URL`` (non-empty -> breaker state lives in Redis). Outside a
configured Django project (pure tests) the defaults apply.
"""
from __future__ import annotations

from typing import Any

BREAKER_DEFAULTS = {"enabled": True, "failure_threshold": 5, "reset_timeout": 30.0, "probe_timeout": 60.0}
HTTP_DEFAULTS = {"max_connections": 100, "max_keepalive": 20, "max_response_bytes": 5_000_000}


def _settings():
    from django.conf import settings

    return settings if settings.configured else None


def flowyard(key: str, default: Any = None) -> Any:
    settings = _settings()
    if settings is None:
        return default
    return (getattr(settings, "FLOWYARD", None) or {}).get(key, default)


def redis_url() -> str:
    settings = _settings()
    return (getattr(settings, "REDIS_URL", "") or "") if settings is not None else ""


def python_handlers() -> list[str]:
    return list(flowyard("PYTHON_HANDLERS", []) or [])


def breaker_config() -> dict:
    return {**BREAKER_DEFAULTS, **(flowyard("BREAKER", {}) or {})}


def http_config() -> dict:
    return {**HTTP_DEFAULTS, **(flowyard("HTTP", {}) or {})}
