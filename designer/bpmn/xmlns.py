"""XML namespaces Flowyard reads and small helpers for namespaced lookups.

BPMN files use whatever prefix their tool liked (``bpmn:``, ``bpmn2:``, ``semantic:`` or
none at all), so everything here matches on namespace URI + local name, never on prefix.
"""
from __future__ import annotations

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
FLOWYARD = "http://flowyard.dev/schema/bpmn/1.0"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def qname(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


def local_name(el: etree._Element) -> str:
    """Local part of an element's tag ('' for comments and processing instructions)."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def namespace(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].partition("}")[0]


def is_bpmn(el: etree._Element, *names: str) -> bool:
    return namespace(el) == BPMN and (not names or local_name(el) in names)


def bpmn_children(el: etree._Element, *names: str) -> list[etree._Element]:
    """Direct BPMN-namespace children of ``el``, optionally only those named ``names``."""
    return [c for c in el if is_bpmn(c, *names)]


def bpmn_child(el: etree._Element, name: str) -> etree._Element | None:
    for child in el:
        if is_bpmn(child, name):
            return child
    return None


def child_text(el: etree._Element, name: str) -> str | None:
    """Stripped text of the first BPMN child ``name``; None when absent or blank."""
    child = bpmn_child(el, name)
    if child is None:
        return None
    text = "".join(child.itertext()).strip()
    return text or None


def extension_children(el: etree._Element, ns: str, name: str | None = None) -> list[etree._Element]:
    """Children in namespace ``ns`` inside ``el``'s ``bpmn:extensionElements``."""
    ext = bpmn_child(el, "extensionElements")
    if ext is None:
        return []
    return [c for c in ext if namespace(c) == ns and (name is None or local_name(c) == name)]


def attr(el: etree._Element, name: str, ns: str | None = None) -> str | None:
    """Attribute value, None when absent; BPMN attributes are unqualified."""
    return el.get(qname(ns, name) if ns else name)
