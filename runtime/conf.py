"""Flowyard's settings: one namespaced dict, ``settings.FLOWYARD``, with documented defaults.

Read through ``flowyard_setting(key)`` on every use (so tests and ``override_settings`` take
effect), never copied at import. Dict-valued keys merge over their defaults, so a project
sets only what it changes: ``FLOWYARD = {"BREAKER": {"failure_threshold": 3}}``. Outside a
configured Django project (the pure connector tests) the defaults apply.
"""
from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    # Run a Celery worker and the timer scheduler inside the web process (embedded mode;
    # config/settings.py turns it on when no DATABASE_URL/REDIS_URL is set).
    "EMBEDDED_WORKER": False,
    # Python connector handlers a BPMN file may name: exact dotted paths, or prefixes
    # ending in "." (the function must be defined in that module).
    "PYTHON_HANDLERS": [],
    # Your own connector types: {"name": "dotted.path.to.ConnectorOrCallable"}.
    "CONNECTORS": {},
    # Circuit breaker per endpoint: consecutive failures that open it, seconds open before
    # one half-open probe, seconds a probe may hold the half-open slot, and how long a
    # process trusts Redis's "closed, no failures" answer without asking again ("PT0S": off).
    "BREAKER": {"enabled": True, "failure_threshold": 5, "reset_timeout": 30.0, "probe_timeout": 60.0,
                "local_cache": "PT1S"},
    # The HTTP connector's pooled client.
    "HTTP": {"max_connections": 100, "max_keepalive": 20, "max_response_bytes": 5_000_000},
    # Reconciler: seconds before an undelivered timer wake-up is sent again, before a
    # continuation or pending call counts as lost, and past its timeout before a running
    # call counts as lost (its worker died).
    "TIMER_LEASE": 30.0,
    "RECONCILE_AFTER": 15.0,
    "CALL_LEASE_GRACE": 60.0,
    # Inbox: rows per page, hours before a due date that a task counts as "due soon", and
    # the largest number the navigation badge shows.
    "INBOX_PAGE_SIZE": 25,
    "INBOX_DUE_SOON_HOURS": 24,
    "INBOX_BADGE_CAP": 99,
}


def _project_settings() -> dict:
    from django.conf import settings

    if not settings.configured:
        return {}
    return getattr(settings, "FLOWYARD", None) or {}


def flowyard_setting(key: str) -> Any:
    """The project's value for ``key``, or its default; dicts merge over the default."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown Flowyard setting {key!r} (known: {', '.join(sorted(DEFAULTS))})")
    default = DEFAULTS[key]
    value = _project_settings().get(key, default)
    if isinstance(default, dict):
        return {**default, **(value or {})}
    return value
