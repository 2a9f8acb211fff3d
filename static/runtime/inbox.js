// The inbox list, live. Pushes for this user and their groups arrive as "flowyard:live"
// events from the page-wide socket (static/js/live.js). A push is only a hint: the list is
// re-fetched with the page's own query and merged row by row, keyed by task id, so rows
// that did not change are never touched (no flicker), new ones slide in highlighted, and
// rows that left the tab (claimed by someone else, completed, cancelled) are removed.
// Every (re)connect says "hello" first; that re-syncs whatever was missed while offline.
(function () {
  "use strict";
  const list = document.getElementById("inbox-list");
  if (!list) return;
  const rowsUrl = list.dataset.rowsUrl;
  const SAFETY_NET_MS = 60000;  // tasks open to everyone are pushed to nobody: poll rarely
  let timer = null;
  let inflight = null;
  let again = false;

  function parse(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html;
    return tpl.content;
  }

  function mergeRows(body, fresh) {
    const old = new Map();
    for (const row of Array.from(body.children)) {
      if (row.dataset.taskId) old.set(row.dataset.taskId, row);
    }
    const wanted = Array.from(fresh.children);
    const keep = new Set(wanted.map((r) => r.dataset.taskId).filter(Boolean));
    for (const row of Array.from(body.children)) {
      if (!row.dataset.taskId || !keep.has(row.dataset.taskId)) row.remove();
    }
    let cursor = body.firstElementChild;
    for (const incoming of wanted) {
      let row = incoming.dataset.taskId ? old.get(incoming.dataset.taskId) : null;
      if (row && row.dataset.sig !== incoming.dataset.sig) {
        row.replaceWith(incoming);
        if (cursor === row) cursor = incoming;
        row = incoming;
      } else if (!row) {
        row = incoming;
        if (row.dataset.taskId) row.classList.add("fy-fresh");
      }
      if (row === cursor) {
        cursor = cursor.nextElementSibling;
      } else {
        body.insertBefore(row, cursor);
      }
    }
  }

  function mergePart(name, fresh) {
    const mine = list.querySelector(`[data-live-part="${name}"]`);
    const theirs = fresh.querySelector(`[data-live-part="${name}"]`);
    if (mine && theirs && mine.innerHTML !== theirs.innerHTML) {
      mine.replaceWith(theirs);
      if (window.htmx) window.htmx.process(theirs);
    }
  }

  function resync() {
    if (inflight) { again = true; return; }
    inflight = fetch(rowsUrl + location.search, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`inbox rows: ${r.status}`))))
      .then((html) => {
        const fresh = parse(html);
        const body = list.querySelector("#inbox-rows");
        const freshBody = fresh.querySelector("#inbox-rows");
        if (!body || !freshBody || body.dataset.tab !== freshBody.dataset.tab) {
          list.replaceChildren(fresh);  // a different tab was swapped in meanwhile
          if (window.htmx) window.htmx.process(list);
        } else {
          mergeRows(body, freshBody);
          mergePart("tabs", fresh);
          mergePart("pager", fresh);
        }
        list.dataset.synced = String(Date.now());
      })
      .catch(() => {})
      .finally(() => {
        inflight = null;
        if (again) { again = false; schedule(0); }
      });
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(resync, delay);
  }

  document.addEventListener("flowyard:live", (ev) => {
    const type = ev.detail && ev.detail.type;
    if (type === "task") schedule(25);        // coalesce a burst (a fork creating N tasks)
    else if (type === "hello") schedule(0);   // (re)connected: catch up on what we missed
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) schedule(0); });
  setInterval(() => { if (!document.hidden) schedule(0); }, SAFETY_NET_MS);
  window.FlowyardInbox = { resync };
})();
