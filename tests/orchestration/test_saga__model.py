"""The demo order saga as a model: it compiles without a finding, the soundness checker
accepts it, every element has a diagram shape, and its URLs follow the `shop` variable."""
from __future__ import annotations

from lxml import etree

from designer.bpmn import compile_bpmn
from designer.soundness import check
from tests.orchestration.conftest import SAGA

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "flowyard": "http://flowyard.dev/schema/bpmn/1.0"}


def test_the_saga_compiles_without_findings_and_is_sound():
    result = compile_bpmn(SAGA.read_bytes())
    assert result.graph is not None and result.process_id == "order_saga"
    assert [(f.code, f.element, f.message) for f in result.findings] == []
    report = check(result.graph)
    assert report.sound, [(f.code, f.element, f.message) for f in report.findings]


def test_every_element_is_drawn_and_every_call_goes_to_the_shop_variable():
    tree = etree.parse(str(SAGA))
    process = tree.find("bpmn:process", NS)
    elements = {el.get("id") for el in process if el.get("id") and not el.tag.endswith("documentation")}
    drawn = {el.get("bpmnElement") for el in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    drawn |= {el.get("bpmnElement") for el in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert elements - drawn == set()
    urls = [el.get("url") for el in tree.iterfind(".//flowyard:http", NS)]
    assert len(urls) == 6 and all(url.startswith("=shop + '/shop/api/") for url in urls)
    edges = {el.get("bpmnElement"): [(int(w.get("x")), int(w.get("y"))) for w in el.iterfind("{*}waypoint")]
             for el in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert all(len(points) >= 2 for points in edges.values())
