"""Site-wide pages: home dashboard, health check, API docs."""
from __future__ import annotations

import importlib
import time
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from config.models import WorkerPing
from config.tasks import ping_task


def _tiles(request) -> list[dict]:
    """One tile per area that reports a summary through `<app>.summary.home_tile(request)`."""
    tiles = []
    for module_name in ("designer.summary", "runtime.summary"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        tiles.extend(module.home_tiles(request))
    return tiles


@login_required
def home(request):
    return render(request, "home.html", {"tiles": _tiles(request), "db_vendor": connection.vendor})


def health(request):
    """Liveness for load balancers and compose health checks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True, "database": connection.vendor, "embedded": settings.EMBEDDED})


@require_POST
@login_required
def worker_health(request):
    """Send a ping task after commit and wait (up to 10 s) until a worker has run it."""
    if not request.user.is_staff:
        return JsonResponse({"ok": False, "error": "staff only"}, status=403)
    token = uuid.uuid4().hex
    started = time.monotonic()
    transaction.on_commit(lambda: ping_task.delay(token))
    deadline = started + 10
    while time.monotonic() < deadline:
        if WorkerPing.objects.filter(token=token).exists():
            return JsonResponse({"ok": True, "token": token, "seconds": round(time.monotonic() - started, 4)})
        time.sleep(0.01)
    return JsonResponse({"ok": False, "token": token, "error": "no worker ran the ping within 10 s"}, status=503)


@login_required
def api_docs(request):
    return render(request, "api_docs.html", {"schema_url": reverse("api-schema")})


def safe_reverse(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None
