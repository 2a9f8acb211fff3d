// The Flowyard editor: bpmn-js draws, Django thinks, htmx swaps.
//
// - autosave: every diagram change marks the draft unsaved; 1 s after the last change the
//   XML is POSTed to the server, which answers with its findings (markers + problem list);
// - properties panel: selecting an element POSTs the current XML + element id and htmx
//   swaps the server-rendered panel in; edits POST back, and the server's validated patch
//   is written into the diagram with one undoable command (patch.js);
// - validate / deploy / start also send the XML the user sees, not the last autosave.
(function () {
  "use strict";

  const root = document.getElementById("fy-editor");
  const urls = JSON.parse(root.dataset.urls);
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const $ = (selector) => document.querySelector(selector);

  const state = {
    revision: 0, savedRevision: 0, saving: false, saveTimer: null, retryMs: 1000,
    xml: null, xmlRevision: -1, selectedId: null, applyingPatch: false, refreshTimer: null,
    markers: [], panelStarted: 0, pendingAction: null, sendingAction: null, swapCarry: null, swapFocus: null, repostPanel: false,
  };
  const timings = (window.flowyardTimings = { import: null, interactive: null, panel: [] });
  let modeler;

  // --- XML of what the user sees ----------------------------------------------------
  async function currentXml() {
    if (state.xmlRevision === state.revision && state.xml !== null) return state.xml;
    const revision = state.revision;
    const { xml } = await modeler.saveXML({ format: true });
    if (revision === state.revision) {
      state.xml = xml;
      state.xmlRevision = revision;
    }
    return xml;
  }

  // --- save state + autosave --------------------------------------------------------
  const SAVE_LABELS = { saved: "Saved", unsaved: "Unsaved changes", saving: "Saving…", error: "Not saved" };
  const SAVE_PILLS = { saved: "ok", unsaved: "warn", saving: "info", error: "bad" };

  function setSaveState(name, title) {
    const pill = $("#save-state");
    pill.dataset.state = name;
    pill.textContent = SAVE_LABELS[name];
    pill.className = "pill " + SAVE_PILLS[name];
    pill.title = title || "";
  }

  function scheduleSave(delay) {
    clearTimeout(state.saveTimer);
    state.saveTimer = setTimeout(save, delay === undefined ? 1000 : delay);
  }

  async function save() {
    if (state.saving) return scheduleSave();
    if (state.savedRevision === state.revision) return;
    const revision = state.revision;
    state.saving = true;
    setSaveState("saving");
    try {
      const xml = await currentXml();
      const response = await fetch(urls.draft, {
        method: "POST", body: new URLSearchParams({ xml }),
        headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch" },
      });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || response.statusText);
      state.savedRevision = revision;
      state.retryMs = 1000;
      showProblems(data.problems_html);
      setSaveState(state.revision === revision ? "saved" : "unsaved", "saved " + data.saved_at);
    } catch (error) {
      setSaveState("error", String(error.message || error));
      state.retryMs = Math.min(state.retryMs * 2, 30000);
      scheduleSave(state.retryMs);
    } finally {
      state.saving = false;
      if (state.revision !== state.savedRevision && $("#save-state").dataset.state !== "error") scheduleSave();
    }
  }

  function flushSave() {
    clearTimeout(state.saveTimer);
    return save();
  }

  window.addEventListener("beforeunload", (event) => {
    if (state.revision !== state.savedRevision) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // --- findings: markers on the canvas + the problems tab ---------------------------
  function setMarkers(findings) {
    const canvas = modeler.get("canvas");
    const registry = modeler.get("elementRegistry");
    state.markers.forEach(([id, cls]) => registry.get(id) && canvas.removeMarker(id, cls));
    state.markers = [];
    findings.forEach((f) => {
      if (!f.element || f.severity === "info" || !registry.get(f.element)) return;
      const cls = "fy-marker-" + f.severity;
      canvas.addMarker(f.element, cls);
      state.markers.push([f.element, cls]);
    });
    const count = findings.filter((f) => f.severity !== "info").length;
    $("#problem-count").textContent = count ? String(count) : "";
    $("#problem-count").classList.toggle("bad", findings.some((f) => f.severity === "error"));
  }

  function readFindings(scope, id) {
    const script = scope.querySelector("#" + id);
    return script ? JSON.parse(script.textContent) : [];
  }

  function showProblems(html) {
    const box = $("#problems");
    box.innerHTML = html;
    setMarkers(readFindings(box, "findings-data"));
  }

  $("#problems").addEventListener("click", (event) => {
    const link = event.target.closest(".fy-finding-link");
    const element = link && link.dataset.element && modeler.get("elementRegistry").get(link.dataset.element);
    if (!element) return;
    modeler.get("selection").select(element);
    modeler.get("canvas").scrollToElement(element);
    showTab("panel");
  });

  // --- tabs -------------------------------------------------------------------------
  function showTab(name) {
    document.querySelectorAll(".fy-tabs [data-tab]").forEach((tab) => {
      const active = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(active));
      document.getElementById(tab.dataset.tab).hidden = !active;
    });
  }
  document.querySelectorAll(".fy-tabs [data-tab]").forEach((tab) => tab.addEventListener("click", () => showTab(tab.dataset.tab)));

  // --- properties panel -------------------------------------------------------------
  function selectedId() {
    const selected = modeler.get("selection").get();
    if (selected.length > 1) return null;
    if (selected.length === 1) {
      const element = selected[0].labelTarget || selected[0];
      return element.id;
    }
    const rootElement = modeler.get("canvas").getRootElement();
    return rootElement.businessObject ? rootElement.businessObject.id : rootElement.id;
  }

  // The panel settles in the same task as its swap: htmx wires a swapped-in form up only
  // when it settles, and a change made before that (20 ms by default) would post nothing.
  const PANEL_SWAP = "innerHTML settle:0ms";

  async function requestPanel() {
    const id = selectedId();
    if (id !== state.selectedId) state.pendingAction = null; // a button of the panel left behind
    state.selectedId = id;
    if (id === null) {
      $("#panel").innerHTML = '<p class="muted fy-pad">' + modeler.get("selection").get().length + " elements selected.</p>";
      return;
    }
    state.panelStarted = performance.now();
    const xml = await currentXml();
    if (id !== state.selectedId) return; // the selection moved on while the XML was written
    htmx.ajax("POST", urls.panel, { target: "#panel", swap: PANEL_SWAP, values: { xml, element_id: id } });
  }

  function refreshPanelSoon() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(requestPanel, 250);
  }

  // No typed value and no clicked button may be lost to a swap. Every panel request
  // remembers the form values it was sent with (for a plain "show the panel" request: the
  // values the form held when it left). When its answer arrives, the patch is written first;
  // then:
  // - a field whose value changed since is the user's newer edit: if the user is still in
  //   it (focused and changed), the swap waits for the post that field's change will make;
  //   otherwise the new form is swapped in, the newer values are written into it and the
  //   form is posted again, so the server sees them (a change made to the old form while its
  //   own post was pending would otherwise be dropped by htmx with the removed form);
  // - focus and selection are restored exactly (htmx skips a selection that starts at 0,
  //   so a field Tab had selected lost its selection and the next keys were put in front of
  //   the old text);
  // - a "+ Add"/"Remove" button's action waits in state.pendingAction until a post carries it.
  const panelForm = () => document.getElementById("panel-form");
  // not elt.id: the panel form has a field named "id", which shadows the property
  const isPanelForm = (elt) => Boolean(elt && elt.getAttribute && elt.getAttribute("id") === "panel-form");

  function formValues(form) {
    const values = new Map();
    if (!form) return values;
    Array.from(form.elements).forEach((el) => {
      if (!el.name || el.name === "xml" || el.name === "_action" || el.type === "submit" || el.type === "button") return;
      if (!values.has(el.name)) values.set(el.name, []);
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      if (el.type === "select-multiple") {
        Array.from(el.selectedOptions).forEach((o) => values.get(el.name).push(o.value));
      } else {
        values.get(el.name).push(el.value);
      }
    });
    return values;
  }

  function changedSince(sent, now) {
    const changed = new Map();
    new Set([...sent.keys(), ...now.keys()]).forEach((name) => {
      const value = now.get(name) || [];
      if (JSON.stringify(sent.get(name) || []) !== JSON.stringify(value)) changed.set(name, value);
    });
    return changed;
  }

  function writeValues(form, values) {
    Array.from(form.elements).forEach((el) => {
      if (!el.name || !values.has(el.name) || el.type === "submit" || el.type === "button") return;
      const value = values.get(el.name);
      if (el.type === "checkbox" || el.type === "radio") el.checked = value.includes(el.value);
      else if (el.type === "select-multiple") Array.from(el.options).forEach((o) => { o.selected = value.includes(o.value); });
      else el.value = value.length ? value[0] : "";
    });
  }

  function postPanelForm() {
    const form = panelForm();
    if (form) htmx.trigger(form, "change");
  }

  $("#panel").addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button[type=submit][name=_action]");
    if (button && panelForm() && panelForm().contains(button)) state.pendingAction = button.value;
  }, true);

  document.body.addEventListener("htmx:configRequest", (event) => {
    if (!isPanelForm(event.detail.elt)) return;
    // the action goes with the first post after the click, whatever triggered it, once
    delete event.detail.parameters._action;
    if (state.pendingAction) event.detail.parameters._action = state.pendingAction;
    state.sendingAction = state.pendingAction;
    state.pendingAction = null;
  });

  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (!event.detail.target || event.detail.target.id !== "panel") return;
    const xhr = event.detail.xhr;
    const form = panelForm();
    xhr.fyForm = form ? form.dataset.element : null;
    xhr.fySent = formValues(form);
    xhr.fyAction = isPanelForm(event.detail.elt) ? state.sendingAction : null;
    state.sendingAction = null;
  });

  // Panel responses: apply the patch first (it names its element), then swap only when
  // the panel is still about the selected element; an answer that arrives late for an
  // element the user has left is dropped after its patch is written.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target.id !== "panel" || !event.detail.xhr || event.detail.xhr.status >= 400) return;
    const doc = new DOMParser().parseFromString(event.detail.serverResponse, "text/html");
    const form = doc.querySelector("[data-element]");
    if (!form) return;
    let oldId = form.dataset.element;
    if (form.dataset.patch) {
      const patch = JSON.parse(form.dataset.patch);
      oldId = patch.element;
      state.applyingPatch = true;
      try {
        window.FlowyardPatch.apply(modeler, patch);
      } finally {
        state.applyingPatch = false;
      }
      const renamed = patch.props && patch.props.id;
      if (renamed && state.selectedId === oldId) state.selectedId = renamed;
    }
    const xhr = event.detail.xhr;
    state.swapCarry = null;
    state.swapFocus = null;
    if (form.dataset.element !== state.selectedId) {
      event.detail.shouldSwap = false;
      return;
    }
    const old = panelForm();
    if (!old || !xhr.fySent || xhr.fyForm !== old.dataset.element ||
        (old.dataset.element !== form.dataset.element && old.dataset.element !== oldId)) return;
    const newer = changedSince(xhr.fySent, formValues(old));
    const active = document.activeElement;
    const inOld = active && active !== old && old.contains(active) && active.name;
    if (inOld && newer.has(active.name)) {
      // the user is editing this field: keep their form; its change posts everything again
      event.detail.shouldSwap = false;
      if (xhr.fyAction && !state.pendingAction) state.pendingAction = xhr.fyAction;
      return;
    }
    state.swapCarry = newer;
    if (inOld) {
      state.swapFocus = { name: active.name, value: active.value, byValue: /^(checkbox|radio|submit|button)$/.test(active.type),
                          start: null, end: null, direction: "none" };
      try {
        state.swapFocus.start = active.selectionStart;
        state.swapFocus.end = active.selectionEnd;
        state.swapFocus.direction = active.selectionDirection || "none";
      } catch (error) { /* not a text field */ }
    }
  });

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "panel") return;
    const form = panelForm();
    const carry = state.swapCarry;
    const focus = state.swapFocus;
    state.swapCarry = null;
    state.swapFocus = null;
    if (!form) return;
    if (carry && carry.size) writeValues(form, carry);
    if (focus) {
      const field = Array.from(form.elements).find((el) => el.name === focus.name && (!focus.byValue || el.value === focus.value));
      if (field) {
        field.focus({ preventScroll: true });
        if (focus.start !== null && field.value.length >= focus.end) {
          try {
            field.setSelectionRange(focus.start, focus.end, focus.direction);
          } catch (error) { /* not a text field */ }
        }
      }
    }
    // posted once htmx has wired the new form up, when it settles: the panel settles in the
    // same task as the swap (settle:0ms), so no change can fall in between unheard
    state.repostPanel = Boolean((carry && carry.size) || state.pendingAction);
  });

  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target.id === "panel" && state.repostPanel) {
      state.repostPanel = false;
      postPanelForm();
    }
    if (event.detail.target.id === "panel" && state.panelStarted) {
      timings.panel.push(performance.now() - state.panelStarted);
      state.panelStarted = 0;
      root.dataset.panelFor = state.selectedId || "";
    }
    if (event.detail.target.id === "problems") setMarkers(readFindings($("#problems"), "findings-data"));
    if (event.detail.target.id === "deploy-result") {
      setMarkers(readFindings($("#deploy-result"), "deploy-findings"));
    }
  });

  // Forms and buttons marked data-needs-xml carry the diagram's current XML.
  const pendingXml = new WeakMap();
  document.body.addEventListener("htmx:confirm", (event) => {
    const elt = event.detail.elt;
    if (!elt.closest || !elt.closest("[data-needs-xml]") || pendingXml.has(elt)) return;
    event.preventDefault();
    if (elt.closest("#panel")) state.panelStarted = performance.now();
    currentXml().then((xml) => {
      pendingXml.set(elt, xml);
      event.detail.issueRequest(true);
    });
  });
  document.body.addEventListener("htmx:configRequest", (event) => {
    const elt = event.detail.elt;
    if (pendingXml.has(elt)) {
      event.detail.parameters.xml = pendingXml.get(elt);
      pendingXml.delete(elt);
    }
  });

  // --- toolbar ----------------------------------------------------------------------
  async function validateNow() {
    const xml = await currentXml();
    showTab("problems");
    htmx.ajax("POST", urls.validate, { target: "#problems", swap: "innerHTML", values: { xml } });
  }

  async function deployNow() {
    $("#deploy-result").innerHTML = '<p class="muted">Deploying…</p>';
    $("#deploy-dialog").showModal();
    const xml = await currentXml();
    htmx.ajax("POST", urls.deploy, { target: "#deploy-result", swap: "innerHTML", values: { xml } });
  }

  function download(filename, text, type) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type }));
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 0);
  }

  $("#btn-validate").addEventListener("click", validateNow);
  $("#btn-deploy").addEventListener("click", deployNow);
  $("#btn-undo").addEventListener("click", () => modeler.get("commandStack").undo());
  $("#btn-redo").addEventListener("click", () => modeler.get("commandStack").redo());
  $("#btn-export-bpmn").addEventListener("click", async () => {
    download(root.dataset.key + ".bpmn", await currentXml(), "application/xml");
    $(".fy-menu").open = false;
  });
  $("#btn-export-svg").addEventListener("click", async () => {
    const { svg } = await modeler.saveSVG();
    download(root.dataset.key + ".svg", svg, "image/svg+xml");
    $(".fy-menu").open = false;
  });
  document.body.addEventListener("flowyard:deployed", (event) => {
    const count = document.querySelector(".fy-tabs [data-tab='versions'] .muted");
    if (count && event.detail && event.detail.version) count.textContent = String(event.detail.version);
  });
  const start = $("#btn-start");
  if (start) start.addEventListener("click", flushSave);

  // --- boot -------------------------------------------------------------------------
  async function boot() {
    const t0 = performance.now();
    const descriptor = await (await fetch(urls.descriptor)).json();
    modeler = new BpmnJS({ container: "#canvas", moddleExtensions: { flowyard: descriptor } });
    window.flowyardModeler = modeler;
    window.FlowyardPatch.register(modeler);
    const xml = JSON.parse($("#draft-xml").textContent);
    try {
      await modeler.importXML(xml);
    } catch (error) {
      $("#panel").innerHTML = '<p class="error fy-pad">The draft cannot be drawn: ' + String(error.message || error) + "</p>";
      return;
    }
    timings.import = performance.now() - t0;
    const canvas = modeler.get("canvas");
    const zoom = canvas.zoom("fit-viewport", "auto");
    if (zoom > 1) canvas.zoom(1, "auto");
    state.xml = xml;
    state.xmlRevision = 0;

    const eventBus = modeler.get("eventBus");
    eventBus.on("commandStack.changed", () => {
      state.revision += 1;
      setSaveState("unsaved");
      scheduleSave();
      if (!state.applyingPatch) refreshPanelSoon();
    });
    eventBus.on("selection.changed", () => {
      clearTimeout(state.refreshTimer);
      requestPanel();
    });
    eventBus.on("root.set", refreshPanelSoon);
    requestAnimationFrame(() => {
      timings.interactive = performance.now() - t0;
      timings.sinceNavigation = performance.now();
      root.dataset.ready = "1";
    });
    requestPanel();
    // findings of the stored draft, without saving it again
    htmx.ajax("POST", urls.validate, { target: "#problems", swap: "innerHTML", values: { xml } });
  }

  boot();
})();
