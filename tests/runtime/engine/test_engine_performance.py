"""Speed is designed in: a straight-through node must cost far less than a millisecond."""
import itertools
import time

from runtime.engine import InstanceState, events, run
from runtime.engine.testing.builder import GraphBuilder
from runtime.engine.testing.driver import EPOCH


def test_ten_script_tasks_run_well_under_a_millisecond_per_node():
    b = GraphBuilder().start("s").end("e")
    names = [f"t{i}" for i in range(10)]
    for name in names:
        b.script(name, x="x + 1")
    graph = b.chain("s", *names, "e").graph()
    counter = itertools.count()
    new_id = lambda: str(next(counter))  # noqa: E731
    runs = 200
    started = time.perf_counter()
    for _ in range(runs):
        result = run(graph, InstanceState(), events.Start({"x": 0}), now=EPOCH, new_id=new_id)
        assert result.state.status == "completed"
    per_node = (time.perf_counter() - started) / (runs * 12)
    assert per_node < 0.0002, f"{per_node * 1e6:.0f} µs per node"
