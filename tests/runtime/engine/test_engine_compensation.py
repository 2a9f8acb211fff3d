"""Compensation (saga): reverse order, snapshots, activityRef, resumable handlers."""
from runtime.engine import commands as cmd
from runtime.engine import events as ev
from runtime.engine.testing.builder import GraphBuilder, compensate, error
from runtime.engine.testing.driver import Driver


def _saga(end_event=None):
    """hotel (script) -> flight (service) -> change -> charge (service, error boundary)
    -> error path compensates; cancel_flight is a waiting service task."""
    b = GraphBuilder().start("s").end("done")
    b.script("hotel", hotel_id="'H' + str(trip)").script("undo_hotel", hotel_cancelled="hotel_id")
    b.service("flight", result_variable="flight_id").service("undo_flight", result_variable="refund")
    b.script("change", hotel_id="'changed'").script("skipped", never="1")
    b.script("undo_skipped", undone_skipped="True")
    b.service("charge").boundary("declined", "charge", error("DECLINED"))
    b.compensation("hotel", "undo_hotel").compensation("flight", "undo_flight")
    b.compensation("skipped", "undo_skipped")
    b.end("rolled_back", end_event or compensate())
    b.chain("s", "hotel", "flight", "change", "charge", "skipped", "done").chain("declined", "rolled_back")
    return b.graph()


def test_saga_compensates_completed_activities_in_reverse_with_snapshots():
    d = Driver(_saga())
    d.start(trip=7)
    d.succeed("flight", "F1")
    d.fail("charge", "DECLINED", "card declined")
    assert d.status == "compensating"
    (undo,) = [c for c in d.commands_of(cmd.ScheduleServiceCall) if c.node == "undo_flight"]
    assert "hotel_cancelled" not in d.variables
    d.succeed("undo_flight", 99)
    assert d.variables["refund"] == 99
    assert d.variables["hotel_cancelled"] == "H7"          # the value when hotel completed
    assert d.variables["hotel_id"] == "changed"
    assert "undone_skipped" not in d.variables             # never completed -> not compensated
    assert d.status == "compensated" and not d.state.tokens and not d.state.completed
    handlers = [h.node for h in d.history if h.type == "activity.completed" and h.node.startswith("undo")]
    assert handlers == ["undo_flight", "undo_hotel"]


def test_compensation_with_activity_ref_compensates_only_that_activity():
    d = Driver(_saga(compensate("hotel")))
    d.start(trip=1)
    d.succeed("flight", "F1")
    d.fail("charge", "DECLINED")
    assert d.variables["hotel_cancelled"] == "H1" and "refund" not in d.variables
    assert d.status == "compensated"
    assert [e["node"] for e in d.state.completed] == ["flight"]


def test_compensation_is_resumable_across_save_and_restore():
    d = Driver(_saga())
    d.start(trip=2)
    d.succeed("flight", "F2")
    d.fail("charge", "DECLINED")
    thrower = next(t for t in d.state.tokens.values() if t.node == "rolled_back")
    assert thrower.status == "scope" and thrower.data["compensation"]["queue"]
    d.succeed("undo_flight")
    assert d.status == "compensated"


def test_intermediate_compensation_throw_continues_after_handlers():
    b = GraphBuilder().start("s").script("book", booked="1").script("undo", undone="booked + 1")
    b.compensation("book", "undo").throw("rollback", compensate()).script("after", after="undone")
    b.end("e").chain("s", "book", "rollback", "after", "e")
    d = Driver(b.graph())
    d.start()
    assert d.variables == {"booked": 1, "undone": 2, "after": 2}
    assert d.status == "completed"
    statuses = [c.new for c in d.commands_of(cmd.InstanceStatusChanged)]
    assert statuses == ["running", "compensating", "running", "completed"]


def test_compensation_throw_with_nothing_completed_just_continues():
    b = GraphBuilder().start("s").throw("rollback", compensate()).end("e").chain("s", "rollback", "e")
    d = Driver(b.graph())
    d.start()
    assert d.status == "completed"


def test_completed_sub_process_is_compensated_through_its_inner_activities():
    b = GraphBuilder().start("s").sub("sp").throw("rollback", compensate()).end("e")
    b.chain("s", "sp", "rollback", "e")
    b.start("is", scope="sp").script("a", scope="sp", a="1").script("b", scope="sp", b="1")
    b.end("ie", scope="sp").chain("is", "a", "b", "ie")
    # undo_a reads b_undone, absent from a's snapshot, so it sees the value undo_b wrote
    b.script("undo_a", scope="sp", a_undone="b_undone + 1").script("undo_b", scope="sp", b_undone="1")
    b.compensation("a", "undo_a").compensation("b", "undo_b")
    d = Driver(b.graph())
    d.start()
    assert d.variables["b_undone"] == 1 and d.variables["a_undone"] == 2
    assert d.status == "completed"


def test_multi_instance_activity_compensates_each_completed_instance():
    mi = {"sequential": True, "cardinality": None, "collection": "=items",
          "element_variable": "item", "completion_condition": None}
    b = GraphBuilder().start("s").script("reserve", multi_instance=mi, last="item")
    b.script("release", [("freed", "freed + [item]"), ("last_freed", "item")])
    b.compensation("reserve", "release")
    b.throw("rollback", compensate()).end("e").chain("s", "reserve", "rollback", "e")
    d = Driver(b.graph())
    d.start(items=["x", "y"], freed=[])
    # reverse order: y's handler first; each reads ``freed`` from its own snapshot ([])
    assert d.variables["last_freed"] == "x" and d.variables["freed"] == ["x"]
    assert [h.node for h in d.history if h.type == "activity.completed"].count("release") == 2


def test_operator_compensate_rolls_back_a_running_instance():
    b = GraphBuilder().start("s").script("book", booked="True").script("undo", undone="True")
    b.compensation("book", "undo").user("wait").end("e").chain("s", "book", "wait", "e")
    d = Driver(b.graph())
    d.start()
    result = d.step(ev.Compensate("customer called"))
    assert any(isinstance(c, cmd.CancelHumanTask) for c in result.commands)
    assert d.variables["undone"] is True and d.status == "compensated" and not d.state.tokens
