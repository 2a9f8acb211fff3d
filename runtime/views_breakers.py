"""`/instances/breakers/`: the circuit breaker of every endpoint service calls have used.

Staff only: endpoints and their last errors describe the systems behind the processes.
The state is read through ``breaker_states()`` on each request (Redis in service mode, the
web process's own breakers in the embedded topology, where the worker runs inside it);
the table refreshes itself every few seconds, so an operator can watch a circuit open,
half-open and close while a service recovers.
"""
from __future__ import annotations

from datetime import datetime, timezone

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from runtime.connectors import breaker_states
from runtime.connectors.breaker import BreakerConfig

REFRESH_SECONDS = 2
STATE_ORDER = {"open": 0, "half_open": 1, "closed": 2}


@login_required
@require_GET
def breaker_list(request):
    if not request.user.is_staff:
        raise PermissionDenied("Circuit breakers are for staff.")
    rows = sorted(breaker_states(), key=lambda b: (STATE_ORDER.get(b["state"], 3), b["endpoint"]))
    for row in rows:
        row["opened"] = datetime.fromtimestamp(row["opened_at"], tz=timezone.utc) if row["opened_at"] else None
        row["state_label"] = row["state"].replace("_", "-")
    return render(request, "runtime/instances/breakers.html", {
        "breakers": rows, "config": BreakerConfig.from_settings(), "refresh": REFRESH_SECONDS,
        "open_count": sum(1 for b in rows if b["state"] != "closed"),
    })
