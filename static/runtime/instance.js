// The instance page, live. The diagram is imported once; afterwards only its markers move.
// The instance's socket announces "history is now at seq N"; when N is past the seq this
// page shows, one htmx request fetches out-of-band fragments for everything that may have
// changed plus the history rows after our seq. A hello on (re)connect that disagrees with
// our seq, or a seq going backwards, means we may have missed something: re-fetch it all.
(function () {
  "use strict";
  const page = document.getElementById("instance-page");
  if (!page) return;
  const fragmentsUrl = page.dataset.fragmentsUrl;
  let shown = Number(page.dataset.seq); // the history seq the page reflects
  let wanted = shown;                   // the highest seq announced
  let wantFull = false;
  let inflight = false;

  // -- diagram -----------------------------------------------------------------------------
  let viewer = null;
  let marked = [];

  function readOverlay() {
    const el = document.getElementById("instance-markers-data");
    try { return el ? JSON.parse(el.textContent) : null; } catch (e) { return null; }
  }

  function tokenBadge(nodeId, count) {
    const el = document.createElement("span");
    el.className = "fy-token-count";
    el.dataset.node = nodeId;
    el.title = `${count} live token${count === 1 ? "" : "s"}`;
    el.textContent = String(count);
    return el;
  }

  function applyOverlay(overlay) {
    if (!viewer || !overlay) return;
    const canvas = viewer.get("canvas");
    const overlays = viewer.get("overlays");
    const registry = viewer.get("elementRegistry");
    marked.forEach(([id, cls]) => canvas.removeMarker(id, cls));
    marked = [];
    overlays.remove({ type: "fy-tokens" });
    const mark = (id, cls) => {
      if (!registry.get(id)) return false;
      canvas.addMarker(id, cls);
      marked.push([id, cls]);
      return true;
    };
    overlay.done_nodes.forEach((id) => mark(id, "fy-done"));
    overlay.done_flows.forEach((id) => mark(id, "fy-done"));
    Object.entries(overlay.active).forEach(([id, count]) => {
      if (mark(id, "fy-active")) {
        overlays.add(id, "fy-tokens", { position: { top: -11, right: 11 }, html: tokenBadge(id, count) });
      }
    });
    overlay.incidents.forEach((id) => mark(id, "fy-incident"));
    page.dataset.markedSeq = String(overlay.seq);
  }

  function fit() {
    if (!viewer) return;
    const canvas = viewer.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    if (canvas.zoom() > 1.1) canvas.zoom(1.1, "auto"); // small diagrams stay readable, not huge
  }

  function showDiagram() {
    const source = document.getElementById("instance-bpmn-xml");
    if (!source || typeof BpmnJS === "undefined") return;
    viewer = new BpmnJS({ container: "#diagram" });
    viewer.importXML(JSON.parse(source.textContent)).then(() => {
      fit();
      applyOverlay(readOverlay());
      page.dataset.diagram = "ready";
    }).catch((err) => {
      const box = document.getElementById("diagram-error");
      box.textContent = `The diagram could not be drawn: ${err.message || err}`;
      box.hidden = false;
      page.dataset.diagram = "error";
    });
    const button = document.getElementById("diagram-fit");
    if (button) button.addEventListener("click", fit);
  }

  // -- fragments -----------------------------------------------------------------------------
  function historyOrder() {
    const card = document.getElementById("instance-history");
    return (card && card.dataset.order) || "desc";
  }

  // The order toggle may bring rows the live stream brings again: keep the first of each seq.
  function dedupeHistory() {
    const seen = new Set();
    document.querySelectorAll("#history-rows > tr[data-seq]").forEach((row) => {
      if (seen.has(row.dataset.seq)) row.remove(); else seen.add(row.dataset.seq);
    });
  }

  function afterFetch() {
    const overlay = readOverlay();
    if (overlay && typeof overlay.seq === "number") {
      shown = overlay.seq;
      page.dataset.seq = String(shown);
      applyOverlay(overlay);
    }
    dedupeHistory();
  }

  function pump() {
    if (inflight || (!wantFull && wanted <= shown)) return;
    inflight = true;
    const full = wantFull;
    wantFull = false;
    const url = `${fragmentsUrl}?after=${full ? 0 : shown}&order=${historyOrder()}${full ? "&full=1" : ""}`;
    htmx.ajax("GET", url, { source: page, swap: "none" })
      .then(afterFetch, () => { wantFull = true; })
      .finally(() => { inflight = false; if (wanted > shown || wantFull) setTimeout(pump, wantFull ? 1000 : 0); });
  }

  function announce(seq, full) {
    if (seq < shown) full = true; // history only grows: our picture is wrong, rebuild it
    wanted = Math.max(wanted, seq);
    wantFull = wantFull || full;
    pump();
  }

  document.body.addEventListener("htmx:afterSwap", (ev) => {
    if (ev.detail && ev.detail.target && ev.detail.target.id === "instance-history") dedupeHistory();
  });

  // -- socket --------------------------------------------------------------------------------
  let delay = 500;
  let socket = null;
  let paused = false;
  function setLive(state) { page.dataset.liveState = state; }

  function connect() {
    paused = false;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const mine = new WebSocket(`${scheme}://${location.host}${page.dataset.wsPath}`);
    socket = mine;
    mine.addEventListener("open", () => { delay = 500; setLive("live"); });
    mine.addEventListener("message", (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      if (typeof data.seq !== "number") return;
      if (data.type === "hello") {
        if (data.seq !== shown) announce(data.seq, true); // missed pushes while away
      } else if (data.seq !== shown) {
        announce(data.seq, false);
      }
    });
    mine.addEventListener("close", (ev) => {
      if (socket !== mine) return; // an old socket closing after a reconnect
      if (ev.code === 4403 || ev.code === 4404 || ev.code === 4401) { setLive("denied"); return; }
      setLive("offline");
      if (paused) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    });
  }

  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) ev.preventDefault();
  });

  // For the console and the browser tests: drop the socket (as a network blip would) and reconnect.
  window.FlowyardInstance = {
    refresh: () => announce(wanted, true),
    disconnect: () => { paused = true; if (socket) socket.close(); },
    connect,
    get seq() { return shown; },
  };
  showDiagram();
  connect();
})();
