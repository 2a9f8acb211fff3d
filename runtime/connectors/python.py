"""The ``python`` connector: call a project function named by the BPMN file, if allowed.

A BPMN file is data uploaded by users, so it may only *name* handlers the project has
allow-listed in ``settings.FLOWYARD["PYTHON_HANDLERS"]``: exact dotted paths
(``"shop.handlers.charge"``) or prefixes ending in ``"."`` (``"runtime.demo_handlers."``).
The check happens before anything is imported. The path must be ``<module>.<function>``
and, under a prefix, the function must be *defined* in that module, so a prefix never
exposes what the module merely imported (``runtime.demo_handlers.json`` is refused).

A handler is called as::

    def handler(inputs: dict, *, idempotency_key: str) -> JSON-able result

``inputs`` are the task's evaluated ``flowyard:input`` mappings; ``idempotency_key`` is
the same on every retry of one activity execution, so a handler with side effects can
drop duplicates. Raise ``BusinessError(code, message)`` for an answer the process should
handle (a BPMN error), ``RetryableError`` for "try again later"; any other exception is
retried too, with its traceback kept for the incident. Handlers run in the worker thread
and are not interrupted at the task's timeout; Celery's time limit is the backstop.
"""
from __future__ import annotations

import importlib
import re

from . import conf
from .base import CallRequest, ConfigurationError

_DOTTED = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def handler_allowed(path: str, allowed: list[str] | None = None) -> str | None:
    """The allow-list entry that admits ``path`` (exact or prefix), else None."""
    if not isinstance(path, str) or not _DOTTED.match(path):
        return None
    if path.rsplit(".", 1)[1].startswith("_"):
        return None
    for entry in conf.python_handlers() if allowed is None else allowed:
        if entry == path or (entry.endswith(".") and path.startswith(entry)):
            return entry
    return None


def load_handler(path: str, allowed: list[str] | None = None):
    """Import and return the allowed handler, or raise ConfigurationError saying why not."""
    entry = handler_allowed(path, allowed)
    if entry is None:
        raise ConfigurationError(
            f"python handler {path!r} is not allowed; add it (or a prefix ending in '.') to "
            "settings.FLOWYARD['PYTHON_HANDLERS']")
    module_name, name = path.rsplit(".", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"python handler {path!r}: cannot import {module_name!r}: {exc}") from None
    func = getattr(module, name, None)
    if func is None or not callable(func):
        raise ConfigurationError(f"python handler {path!r}: {module_name!r} has no function {name!r}")
    if entry != path and getattr(func, "__module__", None) != module_name:
        raise ConfigurationError(f"python handler {path!r} is not defined in {module_name!r}; "
                                 "allow-list its real path instead")
    return func


class PythonConnector:
    def endpoint(self, request: CallRequest) -> str:
        return f"python:{(request.config or {}).get('handler', '')}"

    def call(self, request: CallRequest):
        path = (request.config or {}).get("handler")
        if not path:
            raise ConfigurationError("python connector needs a 'handler' (flowyard:handler)")
        func = load_handler(path)
        return func(dict(request.inputs or {}), idempotency_key=request.idempotency_key)
