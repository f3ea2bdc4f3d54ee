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

// A block (image, video, table) on lines of its own, with a blank line before and after:
// glued to a table or a paragraph, Markdown would read it as part of that.
function insertBlock(text) {
  const before = source.value.slice(0, source.selectionStart);
  const after = source.value.slice(source.selectionEnd);
  const lead = before === "" || before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
  const tail = after.startsWith("\n\n") ? "" : after.startsWith("\n") ? "\n" : "\n\n";
  insert(lead + text.trim() + tail);
}

// Alt text as Markdown image text, on one line; brackets become parentheses (a bracket
// would end the text early, and the course checker reads image references up to the first).
function altText(value) {
  return value.replace(/\s+/g, " ").trim().replace(/\[/g, "(").replace(/\]/g, ")");
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
    if (!button) return;
    const snippet = snippets[button.dataset.md];
    if (["table", "video", "heading", "list"].includes(button.dataset.md)) insertBlock(snippet);
    else insert(snippet);
  });
}

// Upload without leaving the page: the file goes to the draft, its Markdown goes in.
const upload = document.getElementById("upload-form");
if (upload && source) {
  const alt = document.getElementById("upload-alt");
  const file = upload.querySelector("input[type=file]");
  const isImage = () => Boolean(file && file.files[0] && file.files[0].type.startsWith("image/"));
  alt?.addEventListener("input", () => alt.setCustomValidity(""));
  upload.addEventListener("submit", async (event) => {
    event.preventDefault();
    // An image needs words for those who cannot see it (WCAG 1.1.1): ask before uploading.
    if (alt && isImage() && !alt.value.trim()) {
      alt.setCustomValidity(alt.dataset.required);
      alt.reportValidity();
      alt.focus();
      return;
    }
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
    insertBlock(isVideo ? `\`\`\`video\n${data.path}\n\`\`\`` : `![${altText(alt ? alt.value : "")}](${data.path})`);
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
