"""The inclusive join: fires when no token of its scope can still reach an empty incoming
flow (BPMN 2.0 non-local semantics), and not before."""
from runtime.engine.testing.builder import GraphBuilder
from runtime.engine.testing.driver import Driver


def _diamond(waiting: bool = True):
    """split -(x>0)-> A (user or script) -> join; split -(y>0)-> B (user) -> join."""
    b = GraphBuilder().start("s").gateway("split", "inclusive").gateway("join", "inclusive")
    (b.user("a") if waiting else b.script("a", a="1")).user("b").script("after", fired="fired + 1")
    b.end("e").chain("s", "split").flow("split", "a", "x > 0").flow("split", "b", "y > 0")
    b.chain("a", "join").chain("b", "join").chain("join", "after", "e")
    return b.graph()


def test_single_taken_branch_fires_the_join_without_waiting():
    d = Driver(_diamond())
    d.start(x=0, y=1, fired=0)
    d.complete("b")
    assert d.status == "completed" and d.variables["fired"] == 1


def test_join_waits_while_another_token_can_still_arrive():
    d = Driver(_diamond())
    d.start(x=1, y=1, fired=0)
    d.complete("b")
    assert d.variables["fired"] == 0 and sorted(d.token_nodes()) == ["a", "join"]
    d.complete("a")
    assert d.variables["fired"] == 1 and d.status == "completed"


def test_join_fires_when_the_other_token_leaves_its_upstream_region():
    """A token on branch A may still go elsewhere (XOR to an end): once it has, the join
    must fire even though nothing arrived on A's flow."""
    b = GraphBuilder().start("s").gateway("split", "inclusive").gateway("join", "inclusive")
    b.user("a").gateway("x", "exclusive").end("escape").user("b").script("after", fired="1").end("e")
    b.chain("s", "split").flow("split", "a", "True").flow("split", "b", "True")
    b.chain("a", "x").flow("x", "join", "not skip").flow("x", "escape", default=True)
    b.chain("b", "join").chain("join", "after", "e")
    d = Driver(b.graph())
    d.start(skip=True)
    d.complete("b")
    assert "fired" not in d.variables
    d.complete("a")
    assert d.variables["fired"] == 1 and d.status == "completed"


def test_tokens_of_other_scopes_do_not_block_the_join():
    """An inner OR-join inside a sub-process ignores a waiting token outside it."""
    b = GraphBuilder().start("s").gateway("fork", "parallel").user("outer").sub("sp")
    b.gateway("join", "parallel").end("e").chain("s", "fork").chain("fork", "outer", "join")
    b.chain("fork", "sp", "join").chain("join", "e")
    b.start("is", scope="sp").gateway("split", "inclusive", scope="sp")
    b.gateway("ij", "inclusive", scope="sp").script("a", scope="sp", a="1")
    b.user("b", scope="sp").script("after", scope="sp", inner="1").end("ie", scope="sp")
    b.chain("is", "split").flow("split", "a", "True").flow("split", "b", "False")
    b.chain("a", "ij").chain("b", "ij").chain("ij", "after", "ie")
    d = Driver(b.graph())
    d.start()
    assert d.variables.get("inner") == 1
    assert sorted(d.token_nodes()) == ["join", "outer"]


def test_nested_sub_process_token_blocks_as_its_host():
    b = GraphBuilder().start("s").gateway("split", "inclusive").gateway("join", "inclusive")
    b.sub("sp").script("fast", f="1").script("after", fired="1").end("e")
    b.start("is", scope="sp").user("inside", scope="sp").end("ie", scope="sp").chain("is", "inside", "ie")
    b.chain("s", "split").flow("split", "sp", "True").flow("split", "fast", "True")
    b.chain("sp", "join").chain("fast", "join").chain("join", "after", "e")
    d = Driver(b.graph())
    d.start()
    assert "fired" not in d.variables
    d.complete("inside")
    assert d.variables["fired"] == 1 and d.status == "completed"


def test_loop_back_token_belongs_to_a_later_wave():
    """A token that can reach a filled incoming flow does not block: the join fires for the
    current wave (BPMN 2.0: paths through a node reaching a non-empty flow are exempt)."""
    b = GraphBuilder().start("s").gateway("split", "inclusive").gateway("join", "inclusive")
    b.user("a").user("b").script("count", fired="fired + 1").gateway("again", "exclusive")
    b.end("e").chain("s", "split").flow("split", "a", "True").flow("split", "b", "True")
    b.chain("a", "join").chain("b", "join").chain("join", "count", "again")
    b.flow("again", "a", "fired < 2").flow("again", "e", default=True)
    d = Driver(b.graph())
    d.start(fired=0)
    d.complete("a")
    d.complete("b")
    assert d.variables["fired"] == 1 and d.token_nodes() == ["a"]
    d.complete("a")
    assert d.variables["fired"] == 2 and d.status == "completed"


def test_join_is_rechecked_when_a_blocking_token_ends():
    """The blocking token ends without moving toward the join (boundary-free end)."""
    b = GraphBuilder().start("s").gateway("split", "inclusive").gateway("join", "inclusive")
    b.user("a").gateway("x", "exclusive").end("stop").script("b", b="1").script("after", fired="1")
    b.end("e").chain("s", "split").flow("split", "a", "True").flow("split", "b", "True")
    b.chain("a", "x").flow("x", "stop", default=True).flow("x", "join", "go")
    b.chain("b", "join").chain("join", "after", "e")
    d = Driver(b.graph())
    d.start(go=False)
    assert "fired" not in d.variables
    d.complete("a")
    assert d.variables["fired"] == 1 and d.status == "completed"
