"""The editor page and its server half: autosave, properties panel, validation, deploy.

Every request that judges the diagram carries the diagram's current XML from the
browser, so the server always answers about what the user sees, not about the last
autosave.
"""
from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from designer.bpmn import MAX_BYTES, BpmnError, parse_bpmn
from designer.properties import ElementNotFound, element_view, panel_apply, panel_open
from designer.services import DeployError, draft_save, version_deploy

from . import common
from .common import AUTOSAVE_SOUNDNESS, definition_or_404, deployed_keys, draft_findings, draft_of


def _posted_xml(request) -> str | None:
    xml = request.POST.get("xml", "")
    if not xml or len(xml.encode("utf-8")) > MAX_BYTES:
        return None
    return xml


@login_required
@require_GET
def editor(request, key):
    definition = definition_or_404(key)
    draft = draft_of(definition)
    versions = definition.versions.select_related("deployed_by").order_by("-number")
    return render(request, "designer/editor.html", {
        "definition": definition, "draft": draft, "versions": versions,
        "can_start": common.instance_starter() is not None and versions.exists(),
    })


@login_required
def draft(request, key):
    """GET: the draft as a .bpmn download. POST: autosave; answers with the findings."""
    definition = definition_or_404(key)
    if request.method == "GET":
        response = HttpResponse(draft_of(definition).xml, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{key}.bpmn"'
        return response
    if request.method != "POST":
        return HttpResponse(status=405)
    xml = _posted_xml(request)
    if xml is None:
        return JsonResponse({"error": "no XML, or more than the size limit"}, status=400)
    try:
        parse_bpmn(xml)
    except BpmnError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    saved = draft_save(definition=definition, xml=xml, user=request.user)
    findings = draft_findings(xml, key=key, soundness=AUTOSAVE_SOUNDNESS)
    return JsonResponse({
        "saved_at": timezone.localtime(saved.updated_at).isoformat(),
        "findings": findings,
        "problems_html": render_to_string("designer/_problems.html", {"findings": findings}, request=request),
    })


@login_required
@require_POST
def validate(request, key):
    definition_or_404(key)
    xml = _posted_xml(request)
    if xml is None:
        return HttpResponseBadRequest("no XML")
    findings = draft_findings(xml, key=key, soundness={})
    return render(request, "designer/_problems.html", {"findings": findings, "validated": True})


def _panel_response(request, key, panel, status=200):
    html = render_to_string("designer/_panel.html", {"panel": panel, "key": key,
                                                     "patch_json": json.dumps(panel.patch) if panel.patch else ""},
                            request=request)
    return HttpResponse(html, status=status)


@login_required
@require_POST
def panel(request, key):
    """The panel for the selected element (POST: the diagram XML and ``element_id``)."""
    definition_or_404(key)
    xml = _posted_xml(request)
    if xml is None:
        return HttpResponseBadRequest("no XML")
    try:
        view = element_view(xml, request.POST.get("element_id", ""), deployed_keys=deployed_keys())
    except (BpmnError, ElementNotFound) as exc:
        return HttpResponse(f'<p class="error">Cannot show properties: {exc}</p>', status=400)
    if request.POST.get("apply"):
        panel_ = panel_apply(view, request.POST, request.POST.get("_action", ""))
    else:
        panel_ = panel_open(view)
    return _panel_response(request, key, panel_)


@login_required
@require_POST
def deploy(request, key):
    """Deploy the posted XML (saving it as the draft first); answers with a dialog body."""
    definition = definition_or_404(key)
    xml = _posted_xml(request)
    if xml is None:
        return HttpResponseBadRequest("no XML")
    draft_save(definition=definition, xml=xml, user=request.user)
    findings = draft_findings(xml, key=key)
    context = {"definition": definition, "findings": findings}
    blocking = [f for f in findings if f["severity"] == "error"]
    if blocking:
        context["outcome"] = "errors"
        context["errors"] = blocking
    else:
        try:
            result = version_deploy(xml=xml, user=request.user, accept_warnings=bool(request.POST.get("accept_warnings")))
        except DeployError as exc:
            issues = [f.as_dict() for f in exc.findings]
            context["outcome"] = "warnings" if issues and all(f["severity"] == "warning" for f in issues) else "errors"
            context["errors" if context["outcome"] == "errors" else "warnings"] = issues
            context["findings"] = issues
        else:
            context.update(outcome="created" if result.created else "identical", version=result.version,
                           warnings=result.warnings)
    response = render(request, "designer/_deploy_result.html", context)
    if context["outcome"] == "created":
        response["HX-Trigger"] = json.dumps({"flowyard:deployed": {"version": context["version"].number}})
    return response
