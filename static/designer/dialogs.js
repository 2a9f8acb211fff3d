// Native <dialog>s: buttons with data-open-dialog / data-close-dialog; a dialog marked
// data-open (the server re-rendered it with errors) opens on load.
(function () {
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) document.getElementById(opener.dataset.openDialog)?.showModal();
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog")?.close();
  });
  document.querySelectorAll("dialog[data-open]").forEach((d) => d.showModal());
})();
