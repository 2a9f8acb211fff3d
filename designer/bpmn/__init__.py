"""BPMN 2.0 + Flowyard extension -> compiled graph, with findings.

Pure Python (lxml, isodate, the engine's expression module): importable without Django,
so the designer, the deploy command, the soundness checker and tests share one compiler.
"""
from .api import CompileResult, compile_bpmn
from .definitions import ProcessInfo, list_processes
from .findings import CODES, BpmnError, Finding
from .parser import MAX_BYTES, MAX_DEPTH, parse_bpmn
from .validation import validate_graph

__all__ = [
    "CODES", "MAX_BYTES", "MAX_DEPTH", "BpmnError", "CompileResult", "Finding", "ProcessInfo",
    "compile_bpmn", "list_processes", "parse_bpmn", "validate_graph",
]
