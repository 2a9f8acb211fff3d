"""The behaviour registry: one behaviour per BPMN element type, keyed by the compiled
node's ``type`` (the BPMN tag's local name).

Importing this package imports every family module, which register themselves.
"""
from __future__ import annotations

from ..errors import EngineError
from ..graph import Node
from .base import Behaviour

REGISTRY: dict[str, Behaviour] = {}


def register(*types: str):
    """Class decorator: ``@register("exclusiveGateway")`` installs one shared instance."""
    def install(cls: type[Behaviour]) -> type[Behaviour]:
        instance = cls()
        for type_ in types:
            REGISTRY[type_] = instance
        return cls
    return install


def behaviour_for(node: Node) -> Behaviour:
    try:
        return REGISTRY[node.type]
    except KeyError:
        raise EngineError(f"no behaviour for BPMN type {node.type!r}", node=node.id) from None


from . import events, gateways, multi_instance, subprocess, tasks  # noqa: E402,F401

__all__ = ["REGISTRY", "Behaviour", "behaviour_for", "register"]
