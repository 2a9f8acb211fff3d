"""JSON endpoints of the fake services. Plain Django views, not DRF: they are CSRF-exempt
and need no login (a demo of *other* systems), and must not inherit the API's throttling."""
from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .models import Fault, Operation


def _json(request: HttpRequest):
    if not request.body:
        return {}
    try:
        return json.loads(request.body)
    except ValueError:
        return None


def _respond(answer: services.Answer) -> JsonResponse:
    response = JsonResponse(answer.body, status=answer.status)
    for key, value in answer.headers.items():
        response[key] = value
    return response


def operation_view(operation: str):
    @csrf_exempt
    @require_POST
    def view(request: HttpRequest) -> JsonResponse:
        answer = services.shop_call(operation=operation, key=request.headers.get("Idempotency-Key", "")[:255],
                                    body=_json(request), fail=request.GET.get("fail"))
        return _respond(answer)

    view.__name__ = operation.replace("/", "_")
    return view


@require_http_methods(["GET"])
def calls(request: HttpRequest) -> JsonResponse:
    try:
        limit = max(1, min(int(request.GET.get("limit", 200)), 5000))
    except ValueError:
        limit = 200
    return JsonResponse(selectors.call_log(order_id=request.GET.get("order_id"), operation=request.GET.get("operation"),
                                           key=request.GET.get("key"), limit=limit))


@csrf_exempt
@require_http_methods(["GET", "POST", "DELETE"])
def faults(request: HttpRequest) -> JsonResponse:
    """GET lists plans; POST ``{"operation", "status", "count", "delay", "after_effect",
    "message"}`` installs one (``{"operation", "clear": true}`` removes it); DELETE removes all."""
    if request.method == "DELETE":
        return JsonResponse({"cleared": services.fault_clear(operation=request.GET.get("operation"))})
    if request.method == "POST":
        body = _json(request)
        if not isinstance(body, dict) or body.get("operation") not in [*Operation.values, Fault.ALL]:
            return JsonResponse({"error": "operation must be one of " + ", ".join([*Operation.values, Fault.ALL])},
                                status=400)
        if body.get("clear"):
            services.fault_clear(operation=body["operation"])
        else:
            try:
                status, count = int(body.get("status", 503)), body.get("count")
                count = None if count is None else max(0, int(count))
                delay = min(max(0.0, float(body.get("delay", 0))), services.MAX_DELAY)
            except (TypeError, ValueError):
                return JsonResponse({"error": "status and count are integers, delay is seconds"}, status=400)
            if status != 0 and not 400 <= status <= 599:
                return JsonResponse({"error": "status is 400-599 (or 0 for a delay only)"}, status=400)
            services.fault_set(operation=body["operation"], status=status, count=count, delay=delay,
                               after_effect=bool(body.get("after_effect")), message=str(body.get("message", ""))[:200])
    return JsonResponse({"faults": selectors.fault_list()})


@csrf_exempt
@require_POST
def reset(request: HttpRequest) -> JsonResponse:
    services.shop_reset()
    return JsonResponse({"reset": True})


@require_http_methods(["GET"])
def index(request: HttpRequest) -> JsonResponse:
    base = request.build_absolute_uri(reverse("shop:index"))
    return JsonResponse({"operations": {op.value: f"POST {base}{op.value}" for op in Operation},
                         "calls": f"GET {base}calls/", "faults": f"GET/POST/DELETE {base}faults/",
                         "reset": f"POST {base}reset/"})
