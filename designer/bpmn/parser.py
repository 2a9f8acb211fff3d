"""Hardened loading of untrusted BPMN XML.

Uploaded files come from anyone, so the parser refuses everything XML can do beyond plain
elements: no DTD is loaded, no entity is resolved, nothing is fetched from the network,
and a document with any DOCTYPE is rejected outright (XXE, billion laughs). The DOCTYPE
check happens at the root's start tag, before a single element of content is read, and
libxml2 never opens what a declaration points to. Size is checked before parsing (a
stream is read only up to the limit) and nesting depth while parsing, so a hostile file
costs at most ``MAX_BYTES`` of memory and one linear pass.
"""
from __future__ import annotations

import io
import re
from typing import BinaryIO

from lxml import etree

from .findings import BpmnError, finding
from .xmlns import BPMN, local_name, namespace

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64
MAX_ELEMENTS = 250_000

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _read_limited(source: bytes | str | BinaryIO, max_bytes: int) -> bytes:
    if isinstance(source, str):
        # A str is already decoded: its declaration's encoding no longer applies.
        data = _XML_DECLARATION.sub("", source, count=1).encode("utf-8")
    elif isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > max_bytes:
            raise _too_large(len(source), max_bytes)
        data = bytes(source)
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        if isinstance(data, str):
            return _read_limited(data, max_bytes)
    else:
        raise TypeError(f"expected bytes, str or a binary file, got {type(source).__name__}")
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    return data


def _too_large(size: int, max_bytes: int) -> BpmnError:
    return BpmnError([finding(
        "bpmn.E003", None,
        f"file too large (at least {size:,} bytes; the limit is {max_bytes:,} bytes)",
        "split the model into smaller processes linked by call activities",
    )])


def _fail(code: str, message: str, hint: str = "") -> BpmnError:
    return BpmnError([finding(code, None, message, hint)])


def parse_bpmn(
    source: bytes | str | BinaryIO,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_elements: int = MAX_ELEMENTS,
) -> etree._Element:
    """Parse BPMN XML and return the ``definitions`` element; raise BpmnError otherwise."""
    data = _read_limited(source, max_bytes)
    if not data.strip():
        raise _fail("bpmn.E001", "the file is empty", "upload a BPMN 2.0 XML file")
    events = etree.iterparse(
        io.BytesIO(data), events=("start", "end"), resolve_entities=False,
        load_dtd=False, no_network=True, huge_tree=False, dtd_validation=False,
        remove_comments=True, remove_pis=True,
    )
    depth = count = 0
    root = None
    try:
        for event, el in events:
            if event == "end":
                depth -= 1
                continue
            if root is None:
                root = el
                if el.getroottree().docinfo.doctype:
                    raise _fail(
                        "bpmn.E002", "DOCTYPE declarations are not allowed in BPMN files",
                        "remove the <!DOCTYPE ...> block; BPMN needs no DTD or entities",
                    )
            depth += 1
            count += 1
            if depth > max_depth:
                raise _fail("bpmn.E004", f"elements nested deeper than {max_depth} levels",
                            "flatten the model; real BPMN files are far shallower")
            if count > max_elements:
                raise _fail("bpmn.E004", f"more than {max_elements:,} elements",
                            "split the model into smaller processes")
    except etree.XMLSyntaxError as exc:
        raise _fail("bpmn.E001", f"not well-formed XML: {exc.msg or exc}",
                    "check that the file is BPMN 2.0 XML as saved by a modeler") from None
    if root is None:
        raise _fail("bpmn.E001", "no XML element found", "upload a BPMN 2.0 XML file")
    if namespace(root) != BPMN or local_name(root) != "definitions":
        raise _fail(
            "bpmn.E005",
            f"root element is {root.tag!r}, not BPMN 2.0 definitions",
            f"a BPMN file starts with <bpmn:definitions xmlns:bpmn=\"{BPMN}\">",
        )
    return root
