"""Connector types by name: ``http`` and ``python`` built in, projects add their own.

Two ways to add one (both documented in docs/connectors.md):

* in code, e.g. in an ``AppConfig.ready()``::

      register_connector("sftp", SftpConnector)        # a class: instantiated once
      register_connector("echo", lambda req: req.inputs)  # a callable(request)

* in settings, loaded on first use (``check_connectors`` reports bad entries at start-up)::

      FLOWYARD = {"CONNECTORS": {"sftp": "myproject.connectors.SftpConnector"}}

A connector object has ``call(request) -> CallOutcome | result`` and optionally
``endpoint(request) -> str`` (default: the connector name), which keys its circuit breaker.
"""
from __future__ import annotations

import re
import threading
from typing import Any, Callable

from . import conf
from .base import CallRequest, ConfigurationError
from .http import HttpConnector
from .python import PythonConnector

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_lock = threading.RLock()
_connectors: dict[str, Any] = {}
_settings_loaded = False


class FunctionConnector:
    """Adapts a plain ``callable(request)`` to the connector interface."""

    def __init__(self, name: str, func: Callable[[CallRequest], Any]):
        self.name, self.func = name, func

    def endpoint(self, request: CallRequest) -> str:
        return self.name

    def call(self, request: CallRequest) -> Any:
        return self.func(request)


def _adapt(name: str, target: Any) -> Any:
    if isinstance(target, type):
        target = target()
    if callable(getattr(target, "call", None)):
        return target
    if callable(target):
        return FunctionConnector(name, target)
    raise TypeError(f"connector {name!r} must be a class, an object with call(request), or a callable")


def register_connector(name: str, target: Any = None, *, replace: bool = False):
    """Register ``target`` as connector type ``name``; usable as a decorator without target."""
    if target is None:
        return lambda obj: (register_connector(name, obj, replace=replace), obj)[1]
    if not _NAME.match(name):
        raise ValueError(f"connector name {name!r}: use lower-case letters, digits, '_', '-' or '.'")
    connector = _adapt(name, target)
    with _lock:
        if name in _connectors and not replace:
            raise ValueError(f"connector {name!r} is already registered (pass replace=True to override)")
        _connectors[name] = connector
    return target


def unregister_connector(name: str) -> None:
    with _lock:
        _connectors.pop(name, None)


def load_configured_connectors() -> list[str]:
    """Register ``FLOWYARD["CONNECTORS"]`` entries not registered yet; return problems found."""
    from django.utils.module_loading import import_string

    global _settings_loaded
    problems = []
    with _lock:
        for name, path in (conf.flowyard("CONNECTORS", {}) or {}).items():
            if name in _connectors:
                continue
            try:
                register_connector(name, import_string(path))
            except (ImportError, TypeError, ValueError) as exc:
                problems.append(f"FLOWYARD['CONNECTORS'][{name!r}] = {path!r}: {exc}")
        _settings_loaded = True
    return problems


def get_connector(name: str):
    """The connector registered as ``name``; ConfigurationError naming the known ones."""
    if not _settings_loaded:
        load_configured_connectors()
    with _lock:
        connector = _connectors.get(name)
        known = ", ".join(sorted(_connectors))
    if connector is None:
        raise ConfigurationError(f"unknown connector {name!r} (known: {known})")
    return connector


def connector_names() -> list[str]:
    with _lock:
        return sorted(_connectors)


register_connector("http", HttpConnector)
register_connector("python", PythonConnector)
