"""Hostile and broken input: a clear finding, nothing read, nothing crashed, nothing slow."""
from __future__ import annotations

import io
import time

import pytest

from designer.bpmn import MAX_BYTES, BpmnError, compile_bpmn, parse_bpmn

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <bpmn:process id="p"><bpmn:startEvent id="s" name="&xxe;"/></bpmn:process>
</bpmn:definitions>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <bpmn:process id="p"><bpmn:startEvent id="s" name="&lol9;"/></bpmn:process>
</bpmn:definitions>"""


def only_finding(result):
    assert result.graph is None
    (finding,) = result.findings
    assert finding.severity == "error"
    return finding


@pytest.mark.parametrize("doc", [XXE, PARAMETER_ENTITY, EXTERNAL_DTD, LAUGHS], ids=["xxe", "parameter-entity", "external-dtd", "billion-laughs"])
def test_doctype_is_refused_before_anything_is_read(doc, monkeypatch):
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k))
    started = time.perf_counter()
    finding = only_finding(compile_bpmn(doc))
    assert time.perf_counter() - started < 1.0
    assert finding.code == "bpmn.E002"
    assert "DOCTYPE" in finding.message
    assert "root:" not in str(finding) and "/etc/passwd" not in finding.message
    assert opened == []


def test_xxe_does_not_leak_the_file_even_through_parse_bpmn():
    with pytest.raises(BpmnError) as exc:
        parse_bpmn(XXE)
    assert exc.value.findings[0].code == "bpmn.E002"
    assert "root:" not in str(exc.value)


def test_fifty_megabytes_are_rejected_fast_without_parsing():
    big = b"<bpmn:definitions>" + b"<a/>" * (50 * 1024 * 1024 // 4) + b"</bpmn:definitions>"
    started = time.perf_counter()
    finding = only_finding(compile_bpmn(big))
    assert time.perf_counter() - started < 0.5
    assert finding.code == "bpmn.E003"
    assert f"{MAX_BYTES:,}" in finding.message


def test_a_huge_stream_is_read_only_up_to_the_limit(tmp_path):
    path = tmp_path / "huge.bpmn"
    with path.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB of zero bytes without writing them
    with path.open("rb") as fh:
        finding = only_finding(compile_bpmn(fh))
        assert fh.tell() == MAX_BYTES + 1
    assert finding.code == "bpmn.E003"


def test_limit_can_be_lowered():
    assert only_finding(compile_bpmn(b"<x/>" * 100, max_bytes=100)).code == "bpmn.E003"


def test_deeply_nested_xml_is_refused():
    depth = 100_000
    doc = (b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">' + b"<a>" * depth
           + b"</a>" * depth + b"</bpmn:definitions>")
    finding = only_finding(compile_bpmn(doc))
    assert finding.code in ("bpmn.E004", "bpmn.E001")  # our depth limit, or libxml2's own (256) first
    assert only_finding(compile_bpmn(b"<r>" + b"<a>" * 70 + b"</a>" * 70 + b"</r>")).code == "bpmn.E004"


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", b"\xff\xfe\x00\x00garbage",
    b"not xml at all", b"<unclosed", b"",  b"   \n ", "<bpmn:definitions xmlns:bpmn='x'>",
], ids=["png", "pdf", "binary", "text", "unclosed", "empty", "blank", "bad-namespace-str"])
def test_non_xml_gives_a_clear_error(data):
    finding = only_finding(compile_bpmn(data))
    assert finding.code in ("bpmn.E001", "bpmn.E005")
    assert finding.message and finding.hint


def test_other_xml_is_not_bpmn():
    finding = only_finding(compile_bpmn(b"<html><body/></html>"))
    assert finding.code == "bpmn.E005"
    assert "html" in finding.message


def test_no_process_in_file():
    doc = b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'
    assert only_finding(compile_bpmn(doc)).code == "bpmn.E006"


def test_str_input_with_an_encoding_declaration_is_accepted(bpmn):
    text = bpmn.doc(bpmn.around('<bpmn:task id="t" name="Prüfen"/>', "t")).replace("UTF-8", "ISO-8859-1")
    result = compile_bpmn(text)
    assert result.ok and result.graph["nodes"]["t"]["name"] == "Prüfen"


def test_latin1_bytes_are_decoded_as_declared(bpmn):
    text = bpmn.doc(bpmn.around('<bpmn:task id="t" name="Prüfen"/>', "t")).replace("UTF-8", "ISO-8859-1")
    result = compile_bpmn(text.encode("latin-1"))
    assert result.ok and result.graph["nodes"]["t"]["name"] == "Prüfen"


def test_binary_file_object_is_accepted(bpmn):
    assert compile_bpmn(io.BytesIO(bpmn.doc(bpmn.around('<bpmn:task id="t"/>', "t")).encode())).ok


@pytest.mark.parametrize("expr", ['__import__("os")', "().__class__", '().__class__.__bases__[0].__subclasses__()',
                                  "__builtins__", 'eval("1")', "[x for x in y]", "lambda: 1", "a := 1"])
def test_hostile_expressions_are_error_findings(bpmn, expr):
    from xml.sax.saxutils import escape

    body = ('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="gw" default="fb"/><bpmn:endEvent id="end"/>'
            + bpmn.flow("start", "gw") + bpmn.flow("gw", "end", escape(expr), "fa") + bpmn.flow("gw", "end", fid="fb"))
    result = bpmn.compile(body)
    assert result.graph is None
    assert [(f.code, f.element) for f in result.errors] == [("bpmn.E018", "fa")]
