"""``straight10`` as a viewflow 2 flow: a code start, 10 function nodes, an end."""
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.models import Process


def _chain(names):
    """Viewflow wires nodes through ``this.<name>``; spelling out 10 nodes adds nothing."""
    nodes = {}
    for current, following in zip(names, names[1:] + ["end"]):
        nodes[current] = flow.Function(this.set_variable).Next(getattr(this, following))
    return nodes


class Straight10Flow(flow.Flow):
    process_class = Process

    start = flow.StartHandle(this.start_process).Next(this.x1)
    locals().update(_chain([f"x{i}" for i in range(1, 11)]))
    end = flow.End()

    def start_process(self, activation, **kwargs):
        return activation.process

    def set_variable(self, activation):
        """``x<i> = i``, the same work as each script task of straight10.bpmn."""
        name = activation.flow_task.name
        process = activation.process
        process.data[name] = int(name[1:])
        process.save(update_fields=["data"])
