"""Writes of the designer: deploy versions, save drafts. Keyword-only, one transaction each."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from designer.bpmn import compile_bpmn
from designer.models import Draft, ProcessDefinition, ProcessVersion
from designer.soundness import check as check_soundness


class DeployError(Exception):
    """The XML cannot be deployed; `findings` name the elements and say what to do."""

    def __init__(self, findings: list):
        self.findings = findings
        super().__init__("; ".join(f"{f.element or '-'}: {f.message}" for f in findings) or "deploy refused")


@dataclass
class DeployResult:
    version: ProcessVersion
    created: bool
    warnings: list = field(default_factory=list)


_ENCODING_RE = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def xml_text(xml: str | bytes) -> str:
    """Decode XML bytes with the encoding its declaration names (UTF-8 by default)."""
    if isinstance(xml, str):
        return xml
    match = _ENCODING_RE.match(xml.lstrip(b"\xef\xbb\xbf")[:200])
    encoding = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return xml.decode(encoding).lstrip("\ufeff")
    except LookupError:  # the parser accepted it, so it is a name Python does not know
        return xml.decode("utf-8", errors="replace").lstrip("\ufeff")


def _known_keys() -> set[str]:
    return set(ProcessDefinition.objects.filter(versions__isnull=False).values_list("key", flat=True))


def version_deploy(*, xml: str | bytes, user=None, accept_warnings: bool = False) -> DeployResult:
    """Validate, compile and store a new immutable version of the process in `xml`.

    XML equal to the latest version returns that version (created=False). Errors refuse the
    deploy; warnings (soundness findings included) refuse it too unless `accept_warnings`.
    """
    # Bytes go to the compiler as they are: it checks the size before reading, and honours
    # the XML declaration's encoding (the MIWG files are ISO-8859-1).
    result = compile_bpmn(xml, known_process_keys=_known_keys())
    findings = list(result.findings)
    if result.graph is not None:
        # Soundness runs only on a graph that compiled; its deadlock-in-every-run finding is
        # an error, the rest are warnings that follow the accept_warnings rule below.
        findings += check_soundness(result.graph).findings
    errors = [f for f in findings if f.severity == "error"]
    if errors or result.graph is None:
        raise DeployError(errors or findings)
    text = xml_text(xml)
    warnings = [f for f in findings if f.severity == "warning"]
    checksum = ProcessVersion.checksum_of(text)
    with transaction.atomic():
        definition, _ = ProcessDefinition.objects.select_for_update().get_or_create(
            key=result.process_id, defaults={"name": result.process_name or "", "owner": user}
        )
        latest = definition.versions.order_by("-number").first()
        if latest is not None and latest.checksum == checksum:
            return DeployResult(version=latest, created=False, warnings=latest.warnings)
        if warnings and not accept_warnings:
            raise DeployError(warnings)
        if result.process_name and definition.name != result.process_name:
            definition.name = result.process_name
            definition.save(update_fields=["name", "updated_at"])
        try:
            version = ProcessVersion.objects.create(
                definition=definition,
                number=(latest.number + 1) if latest else 1,
                xml=text,
                compiled=result.graph,
                checksum=checksum,
                warnings=[f.as_dict() for f in warnings],
                deployed_by=user,
            )
        except IntegrityError as exc:  # a concurrent deploy took the number; the caller may retry
            raise DeployError([]) from exc
    # Timer start events of the new version (and the old one's cancellation) take effect at
    # once instead of at the scheduler's next sync.
    transaction.on_commit(_sync_timer_starts)
    return DeployResult(version=version, created=True, warnings=version.warnings)


def _sync_timer_starts() -> None:
    from runtime.jobs import sync_timer_starts

    sync_timer_starts()


def draft_save(*, definition: ProcessDefinition, xml: str, user=None) -> Draft:
    draft, _ = Draft.objects.update_or_create(definition=definition, defaults={"xml": xml, "updated_by": user})
    return draft
