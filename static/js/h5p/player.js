// The page around the sandboxed H5P frame: shows what the frame reports (an answer
// recorded, the module completed). Only messages from that frame are read.
const frame = document.getElementById("h5p-frame");
const status = document.getElementById("h5p-status");
if (frame && status) {
  window.addEventListener("message", (event) => {
    if (event.source !== frame.contentWindow) return;
    const data = event.data || {};
    if (data.source !== "lentera-h5p") return;
    if (data.kind === "recorded" && !status.dataset.done) {
      status.textContent = status.dataset.recorded;
      status.className = "mt-2 mb-0 text-success";
    } else if (data.kind === "completed") {
      status.dataset.done = "1";
      status.textContent = status.dataset.completed;
      status.className = "mt-2 mb-0 alert alert-success";
    } else if (data.kind === "failed") {
      status.textContent = status.dataset.failed;
      status.className = "mt-2 mb-0 alert alert-danger";
    }
  });
}
