// The task page: a read-only mini diagram with the task highlighted, and a notice when
// someone else changes this task while it is open here.
(function () {
  "use strict";
  const page = document.getElementById("task-page");
  const holder = document.getElementById("task-diagram");
  const source = document.getElementById("task-diagram-xml");
  if (holder && source && window.BpmnJS) {
    const viewer = new window.BpmnJS({ container: holder });
    viewer.importXML(JSON.parse(source.textContent)).then(() => {
      const canvas = viewer.get("canvas");
      const node = holder.dataset.node;
      canvas.zoom("fit-viewport", "auto");
      try {
        canvas.addMarker(node, "fy-current");
      } catch (e) { /* the node has no shape in this diagram */ }
      holder.dataset.ready = "1";
    }).catch((err) => {
      holder.textContent = "The diagram could not be shown.";
      holder.dataset.ready = "error";
      console.warn("diagram", err);
    });
  }

  if (!page) return;
  const notice = document.getElementById("task-live-notice");
  const taskId = Number(page.dataset.taskId);
  document.addEventListener("flowyard:live", (ev) => {
    const data = ev.detail || {};
    if (data.type !== "task" || data.task !== taskId) return;
    const assignee = data.assignee == null ? "" : String(data.assignee);
    if (data.state === page.dataset.state && assignee === page.dataset.assignee) return;
    notice.hidden = false;
    notice.innerHTML = "";
    const text = data.state === "completed" ? "This task was just completed."
      : data.state === "cancelled" ? "This task was cancelled: the case moved on without it."
      : data.state === "claimed" ? "Someone claimed or reassigned this task meanwhile."
      : "This task went back to the group's queue.";
    notice.append(text + " ");
    const link = document.createElement("a");
    link.href = location.pathname;
    link.textContent = "Reload";
    notice.append(link);
  });
})();
