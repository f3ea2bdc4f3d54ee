// Lesson editor: live Markdown preview (rendered and sanitised by the server, exactly as
// learners will see it), a small formatting toolbar, image upload that inserts the
// Markdown, and fields shown per lesson kind.
const source = document.querySelector("textarea.md-source");
const preview = document.getElementById("md-preview");
const csrf = document.querySelector("#lesson-form input[name=csrf_token]")?.value || "";

function insert(text, selectInside = false) {
  const start = source.selectionStart;
  const end = source.selectionEnd;
  const selected = source.value.slice(start, end);
  const value = text.replace("$", selected || "");
  source.setRangeText(value, start, end, selectInside ? "select" : "end");
  source.focus();
  schedule();
}

let timer = null;
let last = null;
async function render() {
  const text = source.value;
  if (text === last) return;
  last = text;
  const body = new FormData();
  body.append("text", text);
  try {
    const response = await fetch(source.dataset.previewUrl, {
      method: "POST", body, headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) return;
    const data = await response.json();
    preview.innerHTML = data.html; // sanitised on the server with nh3
  } catch (_error) { /* offline for a moment: the next keystroke tries again */ }
}
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(render, 300);
}

if (source && preview) {
  source.addEventListener("input", schedule);
  render();
  const toolbar = document.querySelector(".md-toolbar");
  toolbar.hidden = false;
  const snippets = {
    heading: "\n## $\n", bold: "**$**", italic: "_$_", list: "\n- $\n- \n",
    table: "\n| Kolom 1 | Kolom 2 |\n| --- | --- |\n| $ | |\n",
    video: "\n```video\nhttps://www.youtube.com/watch?v=\n```\n",
  };
  toolbar.addEventListener("click", (event) => {
    const button = event.target.closest("[data-md]");
    if (button) insert(snippets[button.dataset.md]);
  });
}

// Upload without leaving the page: the file goes to the draft, its Markdown goes in.
const upload = document.getElementById("upload-form");
if (upload && source) {
  upload.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch(upload.action, {
      method: "POST", body: new FormData(upload), headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const data = await response.json();
    if (!response.ok) { window.alert(data.error); return; }
    if (/\.h5p$/.test(data.path)) {  // an H5P package is the module itself, not Markdown
      const field = document.querySelector("#lesson-form input[name=h5p]");
      const kindSelect = document.querySelector("#lesson-form select[name=kind]");
      if (field) field.value = data.path;
      if (kindSelect) { kindSelect.value = "h5p"; kindSelect.dispatchEvent(new Event("change")); }
      upload.reset();
      return;
    }
    const isVideo = /\.(mp4|webm)$/.test(data.path);
    insert(isVideo ? `\n\`\`\`video\n${data.path}\n\`\`\`\n` : `![$](${data.path})`);
    upload.reset();
  });
}

// Show the video / embed fields only for those kinds.
const kind = document.querySelector("#lesson-form select[name=kind]");
function showKind() {
  for (const el of document.querySelectorAll("[data-kind]")) {
    el.hidden = el.dataset.kind !== kind.value;
  }
}
if (kind) { kind.addEventListener("change", showKind); showKind(); }
