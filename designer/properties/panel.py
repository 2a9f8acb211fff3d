"""The properties panel of one element: its sections, bound or not, and the patch.

``panel_open`` renders values read from the XML; ``panel_apply`` validates a posted
panel section by section and returns the patch of every valid section, so the browser
writes exactly the server-checked values into the diagram (as one undoable command).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .element import ElementView
from .sections import (CallActivitySection, DefaultFlowSection, ErrorSection, FlowSection, GeneralSection,
                       MessageSection, MultiInstanceSection, ScriptSection, Section, SignalSection, TimerSection)
from .task_sections import ConnectorSection, MappingSection, UserTaskSection

SECTIONS: tuple[type[Section], ...] = (
    GeneralSection, FlowSection, DefaultFlowSection, TimerSection, MessageSection, SignalSection, ErrorSection,
    UserTaskSection, ConnectorSection, ScriptSection, CallActivitySection, MultiInstanceSection, MappingSection,
)

TYPE_LABELS = {
    "process": "Process", "collaboration": "Collaboration", "participant": "Pool", "lane": "Lane",
    "sequenceFlow": "Sequence flow", "startEvent": "Start event", "endEvent": "End event",
    "intermediateCatchEvent": "Intermediate catch event", "intermediateThrowEvent": "Intermediate throw event",
    "boundaryEvent": "Boundary event", "task": "Task", "userTask": "User task", "serviceTask": "Service task",
    "scriptTask": "Script task", "sendTask": "Send task", "receiveTask": "Receive task", "manualTask": "Manual task",
    "exclusiveGateway": "Exclusive gateway", "parallelGateway": "Parallel gateway",
    "inclusiveGateway": "Inclusive gateway", "eventBasedGateway": "Event-based gateway",
    "subProcess": "Sub-process", "callActivity": "Call activity",
}


@dataclass
class Panel:
    view: ElementView
    sections: list[Section]
    patch: dict | None = None
    errors: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def element_id(self) -> str:
        """The element's id after this panel's patch (the id may just have been renamed)."""
        return ((self.patch or {}).get("props") or {}).get("id") or self.view.id

    @property
    def type_label(self) -> str:
        label = TYPE_LABELS.get(self.view.type, self.view.type)
        kind = self.view.event_kind
        return f"{label} ({kind})" if kind else label


def panel_open(view: ElementView) -> Panel:
    return Panel(view, [cls(view) for cls in SECTIONS if cls.applies(view)])


def panel_apply(view: ElementView, data, action: str = "") -> Panel:
    sections = [cls(view, data, action) for cls in SECTIONS if cls.applies(view)]
    patch: dict = {"element": view.id, "props": {}, "extensions": {}}
    errors = False
    for section in sections:
        if not section.valid():
            errors = True
            continue
        part = section.patch()
        patch["props"].update(part.pop("props", {}))
        patch["extensions"].update(part.pop("extensions", {}))
        patch.update(part)
    return Panel(view, sections, patch, errors)
