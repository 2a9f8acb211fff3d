"""Parallel and sequential multi-instance activities."""
from runtime.engine import commands as cmd
from runtime.engine import events as ev
from runtime.engine.testing.builder import GraphBuilder, io, timer
from runtime.engine.testing.driver import Driver


def _mi(activity: str = "user", **spec):
    base = {"sequential": False, "cardinality": None, "collection": None,
            "element_variable": None, "completion_condition": None}
    base.update(spec)
    b = GraphBuilder().start("s").end("e")
    if activity == "user":
        b.user("review", multi_instance=base, assignee="=reviewer",
               outputs=io(votes="votes + [approved]"))
    else:
        b.script("review", multi_instance=base, seen="seen + [item * 10 + loopCounter]")
    return b.chain("s", "review", "e")


def test_parallel_collection_creates_one_task_per_item():
    d = Driver(_mi(collection="=reviewers", element_variable="reviewer").graph())
    d.start(reviewers=["ann", "bob", "cy"], votes=[])
    tasks = d.commands_of(cmd.CreateHumanTask)
    assert [t.assignee for t in tasks] == ["ann", "bob", "cy"]
    host = next(t for t in d.state.tokens.values() if t.data.get("mi"))
    assert host.data["locals"] == {"nrOfInstances": 3, "nrOfCompletedInstances": 0,
                                   "nrOfActiveInstances": 3}
    for task, vote in zip(tasks, [True, False, True]):
        d.step(ev.TaskCompleted(task.wait_id, {"approved": vote}))
    assert d.variables["votes"] == [True, False, True]
    assert d.status == "completed" and "reviewer" not in d.variables and "approved" not in d.variables


def test_sequential_runs_one_instance_at_a_time_with_loop_counter():
    d = Driver(_mi("script", sequential=True, collection="=items", element_variable="item").graph())
    d.start(items=[1, 2, 3], seen=[])
    assert d.variables["seen"] == [10, 21, 32] and d.status == "completed"


def test_sequential_user_tasks_wait_in_turn():
    d = Driver(_mi(sequential=True, cardinality="2", element_variable=None).graph())
    d.start(reviewer="ann", votes=[])
    assert len(d.waits("task")) == 1
    d.complete("review", approved=1)
    assert len(d.waits("task")) == 1 and d.variables["votes"] == [1]
    d.complete("review", approved=2)
    assert d.variables["votes"] == [1, 2] and d.status == "completed"


def test_completion_condition_cancels_remaining_instances():
    d = Driver(_mi(cardinality="3", completion_condition="nrOfCompletedInstances >= 2").graph())
    d.start(reviewer="x", votes=[])
    waits = d.waits("task")
    d.step(ev.TaskCompleted(waits[0].id, {"approved": True}))
    result = d.step(ev.TaskCompleted(waits[2].id, {"approved": True}))
    assert [c.wait_id for c in result.commands if isinstance(c, cmd.CancelHumanTask)] == [waits[1].id]
    assert d.variables["votes"] == [True, True] and d.status == "completed"


def test_empty_collection_skips_the_activity():
    d = Driver(_mi("script", collection="=items", element_variable="item").graph())
    d.start(items=[], seen=[])
    assert d.status == "completed" and d.variables["seen"] == []


def test_multi_instance_sub_process_with_boundary_on_the_whole_activity():
    mi = {"sequential": False, "cardinality": None, "collection": "=items",
          "element_variable": "item", "completion_condition": None}
    b = GraphBuilder().start("s").sub("each", multi_instance=mi).end("e").end("late")
    b.chain("s", "each", "e").boundary("deadline", "each", timer("duration", "PT1H")).chain("deadline", "late")
    b.start("is", scope="each").user("pack", scope="each", inputs=io(what="item")).end("ie", scope="each")
    b.chain("is", "pack", "ie")
    d = Driver(b.graph())
    d.start(items=["a", "b"])
    assert [t.data for t in d.commands_of(cmd.CreateHumanTask)] == [{"what": "a"}, {"what": "b"}]
    assert len(d.waits("timer")) == 1
    result = d.fire("deadline")
    assert sum(isinstance(c, cmd.CancelHumanTask) for c in result.commands) == 2
    assert d.passed("late") and d.status == "completed"
