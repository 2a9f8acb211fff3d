// The navigation's inbox badge (#inbox-count), kept current from the page-wide socket:
// every task push for this user or their groups, and every (re)connect, re-reads the count.
(function () {
  "use strict";
  if (window.FlowyardInboxBadge) return;  // loaded by several templates: run once
  const badge = document.getElementById("inbox-count");
  if (!badge) return;
  let timer = null;

  function refresh() {
    fetch("/inbox/count/", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => { if (data && badge.textContent !== data.label) badge.textContent = data.label; })
      .catch(() => {});
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 120);
  }

  document.addEventListener("flowyard:live", (ev) => {
    const type = ev.detail && ev.detail.type;
    if (type === "task" || type === "hello") schedule();
  });
  window.FlowyardInboxBadge = { refresh };
})();
