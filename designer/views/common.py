"""Helpers shared by the designer's views: lookups, findings, the starter diagram."""
from __future__ import annotations

import importlib
import re

from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string

from designer.bpmn import compile_bpmn
from designer.soundness import check as check_soundness
from designer.models import Draft, ProcessDefinition, ProcessVersion

# An XML NCName as BPMN tools write ids: no colon, no spaces, not starting with a digit.
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def deployed_keys() -> list[str]:
    return sorted(set(ProcessDefinition.objects.filter(versions__isnull=False).values_list("key", flat=True)))


def definition_or_404(key: str) -> ProcessDefinition:
    return get_object_or_404(ProcessDefinition, key=key)


def draft_of(definition: ProcessDefinition) -> Draft:
    """The draft, created from the latest version (or the starter) when there is none."""
    try:
        return definition.draft
    except Draft.DoesNotExist:
        latest = definition.latest_version
        xml = latest.xml if latest else starter_xml(definition.key, definition.name)
        return Draft.objects.create(definition=definition, xml=xml)


def starter_xml(key: str, name: str) -> str:
    return render_to_string("designer/starter.bpmn", {"key": key, "name": name})


# Autosave runs after every edit pause, so its soundness search gets a short budget; an
# explicit Validate (and deploy, in version_deploy) explores with the checker's defaults.
AUTOSAVE_SOUNDNESS = {"max_states": 5_000, "time_budget": 0.3}


def draft_findings(xml: str, *, key: str | None = None, soundness: dict | None = None) -> list[dict]:
    """Findings of the draft as dicts (errors first), plus a key mismatch if any.

    ``soundness``: None skips the soundness check, {} runs it with its defaults, else the
    keyword arguments for ``designer.soundness.check``. A search cut short by a reduced
    budget is not reported (sound.W006): Validate explores fully and says so.
    """
    result = compile_bpmn(xml, known_process_keys=deployed_keys())
    findings = [f.as_dict() for f in result.findings]
    if soundness is not None and result.graph is not None:
        report = check_soundness(result.graph, **soundness)
        findings += [f.as_dict() for f in report.findings if soundness == {} or f.code != "sound.W006"]
    if key and result.process_id and result.process_id != key:
        findings.insert(0, {
            "code": "designer.E001", "severity": "error", "element": result.process_id,
            "message": f"the process id is {result.process_id!r} but this process is {key!r}",
            "hint": "import the file as a new process instead, or set the process id back",
        })
    return sorted(findings, key=lambda f: SEVERITY_ORDER.get(f["severity"], 3))


def process_rows(query: str = ""):
    """Definitions for the list, with latest version, draft checksum and instance counts."""
    latest = ProcessVersion.objects.filter(definition=OuterRef("pk")).order_by("-number")
    rows = ProcessDefinition.objects.annotate(
        latest=Max("versions__number"),
        latest_checksum=Subquery(latest.values("checksum")[:1]),
    ).select_related("draft")
    if query:
        rows = rows.filter(Q(key__icontains=query) | Q(name__icontains=query))
    rows = list(rows)
    counts = instance_counts([r.pk for r in rows])
    for row in rows:
        row.running, row.incidents = counts.get(row.pk, (0, 0))
        try:
            draft = row.draft
        except Draft.DoesNotExist:
            draft = None
        row.draft_obj = draft
        row.draft_changed = bool(draft and row.latest_checksum and ProcessVersion.checksum_of(draft.xml) != row.latest_checksum)
    return rows


def instance_counts(definition_ids: list[int]) -> dict[int, tuple[int, int]]:
    """definition id -> (active instances, instances with an incident); empty without runtime."""
    try:
        from runtime.models import ACTIVE_STATUSES, ProcessInstance
    except ImportError:  # the runtime app is optional for the designer
        return {}
    active = Q(status__in=ACTIVE_STATUSES)
    rows = (ProcessInstance.objects.filter(version__definition_id__in=definition_ids)
            .values("version__definition_id")
            .annotate(running=Count("id", filter=active), incidents=Count("id", filter=active & Q(has_incident=True))))
    return {r["version__definition_id"]: (r["running"], r["incidents"]) for r in rows}


def instance_starter():
    """runtime.services.instance_start when the runtime provides it, else None."""
    try:
        services = importlib.import_module("runtime.services")
    except ImportError:
        return None
    return getattr(services, "instance_start", None)


def start_errors() -> tuple[type[Exception], ...]:
    """The runtime's refusals of a start (mapped to a message next to the form)."""
    try:
        return (importlib.import_module("runtime.services").RuntimeServiceError,)
    except (ImportError, AttributeError):
        return (ValueError,)
