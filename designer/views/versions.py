"""Deployed versions: history, read-only view, .bpmn export, diff, and starting an instance."""
from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from designer.graph_diff import graph_diff

from . import common
from .common import definition_or_404


@login_required
@require_GET
def version_list(request, key):
    definition = definition_or_404(key)
    versions = definition.versions.select_related("deployed_by").order_by("-number")
    return render(request, "designer/_versions.html", {"definition": definition, "versions": versions})


@login_required
@require_GET
def version_detail(request, key, number):
    definition = definition_or_404(key)
    version = get_object_or_404(definition.versions.select_related("deployed_by"), number=number)
    others = definition.versions.exclude(pk=version.pk).order_by("-number").values_list("number", flat=True)
    return render(request, "designer/version.html", {"definition": definition, "version": version, "others": others})


@login_required
@require_GET
def version_xml(request, key, number):
    version = get_object_or_404(definition_or_404(key).versions, number=number)
    response = HttpResponse(version.xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{key}-v{number}.bpmn"'
    return response


@login_required
@require_GET
def version_diff(request, key):
    definition = definition_or_404(key)
    versions = {v.number: v for v in definition.versions.all()}
    try:
        a, b = int(request.GET.get("a", 0)), int(request.GET.get("b", 0))
    except ValueError:
        a = b = 0
    if not versions:
        return render(request, "designer/diff.html", {"definition": definition, "numbers": []}, status=404)
    numbers = sorted(versions)
    b = b if b in versions else numbers[-1]
    a = a if a in versions else (numbers[-2] if len(numbers) > 1 else b)
    changes = graph_diff(versions[a].compiled, versions[b].compiled)
    return render(request, "designer/diff.html", {
        "definition": definition, "numbers": numbers, "a": versions[a], "b": versions[b], "changes": changes,
        "markers_json": json.dumps({c.id: c.change for c in changes if c.kind != "document"}),
    })


@login_required
@require_POST
def instance_start_view(request, key):
    """Start an instance of the latest (or a chosen) version; HX-Redirect to its page."""
    definition = definition_or_404(key)
    start = common.instance_starter()
    if start is None:
        return HttpResponse('<p class="error">Starting instances is not available yet.</p>', status=501)
    errors = {}
    try:
        variables = json.loads(request.POST.get("variables") or "{}")
        if not isinstance(variables, dict):
            raise ValueError
    except ValueError:
        errors["variables"] = 'variables must be a JSON object, e.g. {"amount": 1200}'
        variables = {}
    number = request.POST.get("version") or None
    if not definition.versions.filter(**({"number": number} if number else {})).exists():
        errors["version"] = "deploy the process before starting it"
    if errors:
        return render(request, "designer/_start_result.html", {"errors": errors}, status=400)
    try:
        instance = start(process_key=key, version=int(number) if number else None, variables=variables,
                         business_key=request.POST.get("business_key", "").strip(), user=request.user)
    except common.start_errors() as exc:  # the runtime says what is wrong (variable names, no none start...)
        return render(request, "designer/_start_result.html", {"errors": {"start": str(exc)}}, status=400)
    try:
        url = reverse("instance-detail", args=[instance.pk])
    except NoReverseMatch:
        url = f"/instances/{instance.pk}/"
    response = HttpResponse(status=204)
    response["HX-Redirect"] = url
    return response
