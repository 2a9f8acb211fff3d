"""OpenAPI pieces shared by the views: the error responses every operation documents,
the pagination bounds, and request/response examples."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.pagination import LimitOffsetPagination

from runtime.api.serializers import ErrorSerializer

ERROR_TEXT = {
    400: "invalid input; each item names the `field` (dotted path or query parameter) or BPMN `element`",
    401: "no or bad credentials (`Authorization: Token <key>` or a session)",
    403: "signed in, but not allowed to do this",
    404: "no such object, or not visible to you",
    409: "the object's state does not allow this (already claimed, instance not running...)",
    413: "the request body is too large",
    415: "unsupported content type",
    429: "too many requests; retry after the `Retry-After` header's seconds",
    503: "the database is busy or unreachable; retry after the `Retry-After` header's seconds",
}

ERROR_EXAMPLES = {
    400: {"errors": [{"field": "variables.amount", "message": "Integer out of range (64-bit signed).", "code": "invalid"}]},
    401: {"errors": [{"message": "Authentication credentials were not provided.", "code": "not_authenticated"}]},
    403: {"errors": [{"message": "you are not a candidate for this task", "code": "permission_denied"}]},
    404: {"errors": [{"message": "no such instance, or it is not yours to see", "code": "not_found"}]},
    409: {"errors": [{"message": "task #12 is claimed (assignee: alice)", "code": "conflict"}]},
    413: {"errors": [{"message": "the request body is too large", "code": "too_large"}]},
    415: {"errors": [{"message": "Unsupported media type \"text/plain\" in request.", "code": "unsupported_media_type"}]},
    429: {"errors": [{"message": "Request was throttled. Expected available in 12 seconds.", "code": "throttled"}]},
    503: {"errors": [{"message": "the database is busy; retry shortly", "code": "unavailable"}]},
}


def errors(*statuses: int) -> dict:
    """Error responses for an operation; 401, 429 and 503 apply to every one of them."""
    out = {}
    for code in sorted({401, 429, 503, *statuses}):
        out[code] = OpenApiResponse(
            ErrorSerializer, description=ERROR_TEXT[code],
            examples=[OpenApiExample(f"error {code}", value=ERROR_EXAMPLES[code], response_only=True,
                                     status_codes=[str(code)])],
        )
    return out


class ApiPagination(LimitOffsetPagination):
    """``?limit=&offset=``; bounded so one request cannot ask for a whole table."""

    default_limit = 50
    max_limit = 500


def example(name: str, value, *, request: bool = False, status: int | None = None, summary: str = "") -> OpenApiExample:
    if request:
        return OpenApiExample(name, value=value, request_only=True, summary=summary or None)
    return OpenApiExample(name, value=value, response_only=True, status_codes=[str(status or 200)],
                          summary=summary or None)


INSTANCE_EXAMPLE = {
    "id": 42, "process": "loan_approval", "version": 3, "status": "running", "business_key": "APP-1001",
    "variables": {"amount": 12000, "income": 4000, "risk": "low", "initiator": "alice"},
    "tokens": [{"node": "Task_review", "state": "waiting", "since": "2026-01-05T10:00:00Z"}],
    "incidents": [], "has_incident": False, "started_by": "alice", "started_at": "2026-01-05T10:00:00Z",
    "ended_at": None, "parent": None, "history_seq": 9,
}

TASK_EXAMPLE = {
    "id": 7, "instance": 42, "process": "loan_approval", "node": "Task_review", "name": "Review application",
    "state": "open", "assignee": None, "candidate_users": [], "candidate_groups": ["loan-officers"],
    "open_to_all": False, "priority": 50, "due_at": "2026-01-07T10:00:00Z", "created_at": "2026-01-05T10:00:00Z",
    "claimed_at": None, "completed_at": None, "completed_by": None,
    "form": [{"key": "decision", "label": "Decision", "type": "enum", "required": True,
              "choices": ["approve", "reject"], "default": None, "help": None},
             {"key": "approved_amount", "label": "Approved amount", "type": "number", "required": False,
              "choices": None, "default": 12000, "help": None}],
    "submitted": None,
}

PROCESS_EXAMPLE = {
    "key": "loan_approval", "name": "Loan approval", "latest_version": 2,
    "versions": [{"id": 5, "number": 2, "checksum": "9f2c…", "deployed_at": "2026-01-05T09:00:00Z",
                  "deployed_by": "admin", "warnings": []},
                 {"id": 3, "number": 1, "checksum": "11ab…", "deployed_at": "2026-01-02T09:00:00Z",
                  "deployed_by": "admin", "warnings": []}],
    "created_at": "2026-01-02T09:00:00Z", "updated_at": "2026-01-05T09:00:00Z",
}

