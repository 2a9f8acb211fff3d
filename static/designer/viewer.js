// Read-only diagram (NavigatedViewer: pan and zoom, no editing) for versions and diffs.
(function () {
  "use strict";
  const xml = JSON.parse(document.getElementById("diagram-xml").textContent);
  const markersEl = document.getElementById("diagram-markers");
  const viewer = new BpmnJS({ container: "#viewer" });
  window.flowyardViewer = viewer;
  viewer.importXML(xml).then(() => {
    const canvas = viewer.get("canvas");
    if (canvas.zoom("fit-viewport", "auto") > 1) canvas.zoom(1, "auto");
    const markers = markersEl ? JSON.parse(markersEl.textContent) : {};
    const registry = viewer.get("elementRegistry");
    Object.entries(markers).forEach(([id, change]) => {
      if (change !== "removed" && registry.get(id)) canvas.addMarker(id, "fy-diff-" + change);
    });
    document.getElementById("viewer").dataset.ready = "1";
  });
  const svgButton = document.getElementById("btn-export-svg");
  if (svgButton) {
    svgButton.addEventListener("click", async () => {
      const { svg } = await viewer.saveSVG();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
      link.download = svgButton.dataset.filename;
      link.click();
    });
  }
})();
