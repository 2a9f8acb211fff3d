"""One error body for every failure of the API: ``{"errors": [{...}, ...]}``.

Each item has a ``message`` and a ``code``, plus ``field`` (a dotted path into the request:
``variables.amount``, or a query parameter such as ``status``) or ``element`` (a BPMN
element id, for deploy findings). Clients branch on the HTTP status and show the items;
they never have to know which layer (DRF, django-filter, the services) refused.

Views opt in through ``runtime.api.base.ApiMixin`` so the project settings need no
``EXCEPTION_HANDLER`` line; setting it there as well is harmless.
"""
from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import OperationalError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from designer.services import DeployError
from runtime import services
from runtime.transitions import IllegalTransition

log = logging.getLogger(__name__)

# DRF's own codes for the statuses it raises; ours use the same words.
CODE_BY_STATUS = {400: "invalid", 401: "not_authenticated", 403: "permission_denied", 404: "not_found",
                  405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "too_large",
                  415: "unsupported_media_type", 429: "throttled", 503: "unavailable"}


class FieldError(exceptions.ValidationError):
    """A 400 that names one field of the request (or a query parameter)."""

    def __init__(self, field: str, message: str, code: str = "invalid"):
        super().__init__({field: [exceptions.ErrorDetail(message, code=code)]})


def clean(text: Any) -> str:
    """Error messages echo input (a bad key, a bad choice); lone surrogates in it would make
    the response itself unencodable, so they are written as escapes."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def error(message: str, *, code: str, field: str | None = None, element: str | None = None, **extra: Any) -> dict:
    item: dict[str, Any] = {"message": clean(message), "code": str(code)}
    if field is not None:
        item["field"] = clean(field)
    if element is not None:
        item["element"] = clean(element)
    item.update({k: clean(v) for k, v in extra.items() if v not in (None, "")})
    return item


def flatten(detail: Any, path: str = "") -> list[dict]:
    """DRF's nested ``{field: [msgs]}`` / ``{field: {sub: [msgs]}}`` -> flat items with dotted paths."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            key = str(key)
            sub = path if key in ("non_field_errors", "__all__") else (f"{path}.{key}" if path else key)
            out += flatten(value, sub)
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                out += flatten(value, f"{path}.{index}" if path else str(index))
            else:
                out += flatten(value, path)
        return out
    code = getattr(detail, "code", None) or "invalid"
    return [error(detail, code=code, field=path or None)]


def deploy_errors(exc: DeployError) -> list[dict]:
    if not exc.findings:  # version_deploy lost a race for the version number
        return [error("another deploy of this process committed first; send the XML again", code="conflict")]
    items = [error(f.message, code=f.code, element=f.element, hint=f.hint, severity=f.severity)
             for f in exc.findings]
    for item in items:
        item.setdefault("element", None)
    if all(f.severity == "warning" for f in exc.findings):
        items.append(error("the process has warnings; deploy anyway with accept_warnings=true",
                           code="warnings_not_accepted", field="accept_warnings"))
    return items


def _service_error(exc: services.RuntimeServiceError) -> Response:
    if isinstance(exc, services.TaskFormInvalid):
        # Form errors name the form field's key, as the inbox form shows them.
        items = [error(m, code="invalid", field=None if key == "__all__" else key)
                 for key, messages in exc.errors.items() for m in messages]
        return Response({"errors": items}, status=400)
    code = CODE_BY_STATUS.get(exc.status, "invalid")
    return Response({"errors": [error(str(exc), code=code)]}, status=exc.status)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, services.RuntimeServiceError):
        return _service_error(exc)
    if isinstance(exc, DeployError):
        status_ = 409 if not exc.findings else 400
        return Response({"errors": deploy_errors(exc)}, status=status_)
    if isinstance(exc, IllegalTransition):  # a race lost inside the store: the state moved on
        return Response({"errors": [error(str(exc), code="conflict")]}, status=409)
    if isinstance(exc, OperationalError):  # database busy, locked or out of connections: transient
        log.warning("database unavailable for %s", context.get("request") and context["request"].path, exc_info=True)
        return Response({"errors": [error("the database is busy; retry shortly", code="unavailable")]}, status=503,
                        headers={"Retry-After": "1"})
    if isinstance(exc, RequestDataTooBig):
        return Response({"errors": [error("the request body is too large", code="too_large")]}, status=413)
    if isinstance(exc, SuspiciousOperation):
        return Response({"errors": [error("the request was refused as malformed", code="invalid")]}, status=400)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django log it and answer 500
    if isinstance(exc, exceptions.ValidationError):
        items = flatten(exc.detail) or [error("invalid input", code="invalid")]
    else:
        detail = getattr(exc, "detail", None) or response.data
        code = getattr(detail, "code", None) or CODE_BY_STATUS.get(response.status_code, "error")
        message = detail.get("detail", detail) if isinstance(detail, dict) else detail
        items = [error(message, code=code)]
    response.data = {"errors": items}
    return response

