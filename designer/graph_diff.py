"""What changed between two compiled graphs: elements added, removed and changed.

Compiled graphs rather than XML are compared, so moving a shape or reformatting the file
is not a change, while an edited condition, form field or timer is, and named by key.
"""
from __future__ import annotations

from dataclasses import dataclass, field

IGNORED_KEYS = {"incoming", "outgoing"}  # follow from the flows, which are compared themselves


@dataclass
class ElementChange:
    id: str
    kind: str  # "node" or "flow"
    type: str
    name: str
    change: str  # "added", "removed", "changed"
    keys: list[str] = field(default_factory=list)


def _changed_keys(old: dict, new: dict, prefix: str = "") -> list[str]:
    keys = []
    for key in sorted(set(old) | set(new)):
        if key in IGNORED_KEYS:
            continue
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict) and key in ("props", "event", "multi_instance"):
            keys += _changed_keys(a, b, f"{prefix}{key}.")
        else:
            keys.append(f"{prefix}{key}")
    return keys


def graph_diff(old: dict, new: dict) -> list[ElementChange]:
    """Changes from ``old`` to ``new``, removed first, then added, then changed, by id."""
    out: list[ElementChange] = []
    for kind, section in (("node", "nodes"), ("flow", "flows")):
        a, b = old.get(section, {}), new.get(section, {})
        for eid in sorted(set(a) | set(b)):
            before, after = a.get(eid), b.get(eid)
            element = after or before
            etype = element.get("type", "sequenceFlow")
            if before is None:
                out.append(ElementChange(eid, kind, etype, element.get("name", ""), "added"))
            elif after is None:
                out.append(ElementChange(eid, kind, etype, element.get("name", ""), "removed"))
            else:
                keys = _changed_keys(before, after)
                if keys:
                    out.append(ElementChange(eid, kind, etype, element.get("name", ""), "changed", keys))
    for section in ("process", "messages", "errors", "signals", "lanes"):
        keys = _changed_keys(old.get(section) or {}, new.get(section) or {})
        if keys:
            out.append(ElementChange(section, "document", section, "", "changed", keys))
    order = {"removed": 0, "added": 1, "changed": 2}
    return sorted(out, key=lambda c: (order[c.change], c.kind != "node", c.id))
