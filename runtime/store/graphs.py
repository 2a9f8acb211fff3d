"""Compiled graphs, loaded once per version id: versions are immutable, so the cache never
goes stale and a step costs no query for its graph after the first one."""
from __future__ import annotations

import threading

from designer.models import ProcessVersion
from runtime.engine.graph import Graph

_cache: dict[int, Graph] = {}
_lock = threading.Lock()
MAX_CACHED = 1000


def graph_for(version_id: int, compiled: dict | None = None) -> Graph:
    graph = _cache.get(version_id)
    if graph is None:
        if compiled is None:
            compiled = ProcessVersion.objects.values_list("compiled", flat=True).get(pk=version_id)
        graph = Graph.from_dict(compiled)
        with _lock:
            if len(_cache) >= MAX_CACHED:
                _cache.pop(next(iter(_cache)))
            _cache[version_id] = graph
    return graph


def clear() -> None:
    with _lock:
        _cache.clear()
