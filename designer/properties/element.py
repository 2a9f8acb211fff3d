"""One BPMN element of the draft, read with the hardened parser, as the panel sees it.

The panel is stateless: every request carries the diagram's current XML and the selected
element's id, so what the server validates against is exactly what the user sees, even
between two autosaves.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from designer.bpmn import parse_bpmn
from designer.bpmn.xmlns import BPMN, FLOWYARD, attr, bpmn_child, child_text, extension_children, local_name

CATCHING = ("startEvent", "intermediateCatchEvent", "boundaryEvent")
EVENTS = CATCHING + ("endEvent", "intermediateThrowEvent")
TASKS = ("task", "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask", "manualTask", "businessRuleTask")
ACTIVITIES = TASKS + ("subProcess", "callActivity", "transaction", "adHocSubProcess")
SPLITTING_GATEWAYS = ("exclusiveGateway", "inclusiveGateway")


class ElementNotFound(LookupError):
    pass


@dataclass
class ElementView:
    """The selected element plus the document-level facts its panel needs."""

    el: etree._Element
    root: etree._Element
    deployed_keys: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return attr(self.el, "id") or ""

    @property
    def type(self) -> str:
        return local_name(self.el)

    def get(self, name: str, ns: str | None = None) -> str | None:
        return attr(self.el, name, ns)

    def fy(self, name: str) -> str:
        """A flowyard:* attribute as form initial ('' when absent)."""
        return attr(self.el, name, FLOWYARD) or ""

    def text(self, child: str) -> str:
        return child_text(self.el, child) or ""

    def extensions(self, name: str) -> list[dict[str, str]]:
        return [dict(c.attrib) for c in extension_children(self.el, FLOWYARD, name)]

    # --- event definitions ----------------------------------------------------------
    @property
    def event_definition(self) -> etree._Element | None:
        for child in self.el:
            if isinstance(child.tag, str) and child.tag.startswith(f"{{{BPMN}}}") and local_name(child).endswith("EventDefinition"):
                return child
        return None

    @property
    def event_kind(self) -> str | None:
        definition = self.event_definition
        return local_name(definition).removesuffix("EventDefinition") if definition is not None else None

    def root_element(self, kind: str, ref: str | None) -> etree._Element | None:
        if not ref:
            return None
        for el in self.root:
            if local_name(el) == kind and attr(el, "id") == ref:
                return el
        return None

    def root_names(self, kind: str, name_attr: str = "name") -> list[str]:
        """Names of the document's messages/signals (for pickers), sorted, unique."""
        return sorted({attr(el, name_attr) or "" for el in self.root if local_name(el) == kind} - {""})

    # --- flows ----------------------------------------------------------------------
    def by_id(self, eid: str | None) -> etree._Element | None:
        if not eid:
            return None
        found = self.root.xpath("//*[@id=$eid]", eid=eid)
        return found[0] if found else None

    def outgoing(self) -> list[tuple[str, str]]:
        """(flow id, label) of the sequence flows leaving this element, in document order."""
        out = []
        for flow in self.root.iter(f"{{{BPMN}}}sequenceFlow"):
            if attr(flow, "sourceRef") == self.id:
                target = self.by_id(attr(flow, "targetRef"))
                target_name = (attr(target, "name") or attr(target, "id")) if target is not None else "?"
                label = attr(flow, "name") or attr(flow, "id")
                out.append((attr(flow, "id"), f"{label} → {target_name}"))
        return out

    @property
    def source(self) -> etree._Element | None:
        return self.by_id(attr(self.el, "sourceRef"))

    def ids(self) -> set[str]:
        return {el.get("id") for el in self.root.iter() if isinstance(el.tag, str) and el.get("id")}

    @property
    def multi_instance(self) -> etree._Element | None:
        return bpmn_child(self.el, "multiInstanceLoopCharacteristics")

    @property
    def is_process(self) -> bool:
        return self.type in ("process", "collaboration", "participant")


def element_view(xml: str, element_id: str, *, deployed_keys: list[str] | None = None) -> ElementView:
    """Raise BpmnError when the XML is unreadable, ElementNotFound for an unknown id."""
    root = parse_bpmn(xml)
    found = root.xpath("//*[@id=$eid]", eid=element_id) if element_id else []
    if not found:
        processes = [p for p in root if local_name(p) == "process"]
        if element_id or not processes:
            raise ElementNotFound(element_id)
        found = processes[:1]
    return ElementView(found[0], root, sorted(deployed_keys or []))
