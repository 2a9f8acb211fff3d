// The page-wide live connection: shows "live" while the WebSocket is open and reconnects
// with capped exponential backoff. Other scripts listen for "flowyard:live" events.
(function () {
  "use strict";
  const indicator = document.getElementById("live-indicator");
  let delay = 500;
  let socket = null;

  function setState(state, text) {
    if (indicator) { indicator.dataset.state = state; indicator.textContent = text; }
    document.querySelectorAll("[data-live-mirror]").forEach((el) => { el.textContent = text; });
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/live/`);
    socket.addEventListener("open", () => { delay = 500; setState("live", "live"); });
    socket.addEventListener("message", (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      document.dispatchEvent(new CustomEvent("flowyard:live", { detail: data }));
    });
    socket.addEventListener("close", () => {
      setState("offline", "offline – reconnecting");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    });
  }

  window.FlowyardLive = { connect, get socket() { return socket; } };
  connect();
})();
