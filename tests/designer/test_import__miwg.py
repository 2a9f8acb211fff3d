"""The BPMN MIWG reference models (tests/data/miwg, CC BY 3.0): files no one here wrote.

Every process in every file must compile without an exception, and every flow element
must either become a node or be reported as unsupported by id and type; nothing may
vanish silently.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from designer.bpmn import compile_bpmn, list_processes, parse_bpmn
from designer.bpmn.compiler import NODE_TYPES
from designer.bpmn.xmlns import BPMN, local_name

MIWG = sorted((Path(__file__).resolve().parent.parent / "data" / "miwg").glob("*.bpmn"))
UNSUPPORTED_EVENTS = {"escalationEventDefinition", "conditionalEventDefinition", "linkEventDefinition",
                      "cancelEventDefinition"}


def _cases():
    for path in MIWG:
        for info in list_processes(parse_bpmn(path.read_bytes())):
            yield pytest.param(path, info.id, id=f"{path.stem}:{info.id[:24]}")


def test_all_reference_models_are_present():
    assert len(MIWG) == 21
    assert (MIWG[0].parent / "LICENSE.txt").exists() and (MIWG[0].parent / "README.md").exists()


@pytest.mark.parametrize("path", MIWG, ids=[p.stem for p in MIWG])
def test_file_compiles_without_crashing(path):
    result = compile_bpmn(path.read_bytes())
    assert result.process_id
    for finding in result.findings:
        assert finding.code.startswith("bpmn.") and finding.message
    if result.graph is None:
        assert result.errors


@pytest.mark.parametrize("path, process_id", list(_cases()))
def test_every_flow_element_is_compiled_or_reported(path, process_id):
    data = path.read_bytes()
    result = compile_bpmn(data, process_id=process_id)
    process = next(p for p in parse_bpmn(data).iter(f"{{{BPMN}}}process") if p.get("id") == process_id)
    unsupported = {f.element for f in result.findings if f.code == "bpmn.E010"}
    compiled = set(result.graph["nodes"]) if result.graph else None
    for el in _flow_elements(process, unsupported):
        eid, kind = el.get("id"), local_name(el)
        expected_unsupported = kind not in NODE_TYPES or el.get("triggeredByEvent") == "true" or any(
            local_name(c) in UNSUPPORTED_EVENTS for c in el)
        if expected_unsupported:
            assert eid in unsupported, f"{kind} {eid} not reported"
            (finding,) = [f for f in result.findings if f.code == "bpmn.E010" and f.element == eid and "standardLoop" not in f.message]
            assert eid in finding.message
        elif compiled is not None:
            assert eid in compiled


def _flow_elements(container, unsupported):
    """Flow nodes of a process, descending into sub-processes but not into reported ones."""
    skip = {"sequenceFlow", "laneSet", "extensionElements", "documentation", "ioSpecification", "property",
            "association", "textAnnotation", "group", "dataObject", "dataObjectReference", "dataStoreReference",
            "category", "incoming", "outgoing", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
            "dataInputAssociation", "dataOutputAssociation", "performer", "potentialOwner"}
    for el in container:
        if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{BPMN}}}") or local_name(el) in skip:
            continue
        yield el
        if local_name(el) == "subProcess" and el.get("id") not in unsupported:
            yield from _flow_elements(el, unsupported)


def test_b_2_0_lists_its_unsupported_elements():
    """B.2.0 (analytic class) exercises most of BPMN; its unsupported parts by process."""
    data = (MIWG[0].parent / "B.2.0.bpmn").read_bytes()
    reported = []
    for info in list_processes(parse_bpmn(data)):
        result = compile_bpmn(data, process_id=info.id)
        reported += [f.message.split(" '")[0] for f in result.findings if f.code == "bpmn.E010"]
    kinds = " ".join(reported)
    for what in ("conditionalEventDefinition", "escalationEventDefinition", "linkEventDefinition",
                 "signalEventDefinition on startEvent", "standardLoopCharacteristics"):
        assert what in kinds, (what, reported)


@pytest.mark.parametrize("name, element, what", [
    ("C.6.0", "_e880bf53-84ca-4776-aa75-d1bf53172240", "event sub-process"),
    ("C.7.0", "_eae674ce-4d6e-48ac-819c-c79e0868e40d", "businessRuleTask"),
    ("A.3.0", "_178e16eb-4c9e-4ea0-9644-7c5fb2b71825", "escalationEventDefinition on boundaryEvent"),
])
def test_known_unsupported_elements_are_named(name, element, what):
    result = compile_bpmn((MIWG[0].parent / f"{name}.bpmn").read_bytes())
    assert f"unsupported: {what} '{element}'" in [f.message for f in result.findings]


def test_simple_descriptive_models_compile_to_graphs():
    for name in ("A.1.0", "A.4.0", "A.4.1", "B.1.0", "C.2.0"):
        result = compile_bpmn((MIWG[0].parent / f"{name}.bpmn").read_bytes())
        assert result.ok, (name, [str(f) for f in result.errors])
