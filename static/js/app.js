// Small behaviours for every page. No inline scripts: the CSP forbids them.

// Top bar: mark the menu entry of the current page (and its menu) so a person sees where
// they are. Module partials only list links; the longest link that is a prefix of the
// current path wins, so /courses/abc marks the Learning menu (the entry itself only on its
// own page).
function markCurrentMenuEntry() {
  const here = location.pathname;
  let best = null;
  let bestLength = 0;
  document.querySelectorAll(".lentera-bar .dropdown-item[href]").forEach((link) => {
    const path = new URL(link.href, location.href).pathname;
    const matches = path === here || (path !== "/" && here.startsWith(path.endsWith("/") ? path : `${path}/`));
    if (matches && path.length > bestLength) { best = link; bestLength = path.length; }
  });
  if (!best || document.querySelector(".lentera-bar .nav-link.active")) return;
  if (new URL(best.href, location.href).pathname === here) {
    best.classList.add("active");
    best.setAttribute("aria-current", "page");
  }
  best.closest(".dropdown")?.querySelector(".nav-link")?.classList.add("active");
}
markCurrentMenuEntry();

// Ask before destructive form submissions marked with data-confirm.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Copy buttons: <button data-copy="#input-id" data-copied="Copied">.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  field.select();
  const done = () => { if (button.dataset.copied) button.textContent = button.dataset.copied; };
  if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, () => {});
  else if (document.execCommand("copy")) done();
});

// Offline lessons: a lesson page (article.lesson) gets a "save for reading offline" button.
// The page and every file it uses go into the Cache Storage; the service worker (/sw.js)
// serves them when the network is gone. Saved lessons are listed on the /offline page.
const OFFLINE_CACHE = "lentera-lessons-v1";
const SAVED_KEY = "lentera-offline-lessons";
const offline = document.getElementById("lentera-offline");

function savedLessons() {
  try { return JSON.parse(localStorage.getItem(SAVED_KEY) || "{}"); } catch { return {}; }
}

function storeSaved(list) {
  try { localStorage.setItem(SAVED_KEY, JSON.stringify(list)); } catch { /* private mode */ }
}

function pageAssets() {
  const urls = new Set([offline.dataset.offlineUrl]);
  document.querySelectorAll("link[rel=stylesheet][href], link[rel=icon][href], script[src], img[src]")
    .forEach((el) => {
      const url = new URL(el.getAttribute("href") || el.getAttribute("src"), location.href);
      if (url.origin === location.origin) urls.add(url.pathname + url.search);
    });
  return [...urls];
}

async function saveLesson(button) {
  const page = location.pathname + location.search;
  button.disabled = true;
  button.textContent = offline.dataset.saving;
  try {
    const cache = await caches.open(OFFLINE_CACHE);
    await cache.add(new Request(page, { credentials: "same-origin" }));
    await cache.addAll(pageAssets());
    const list = savedLessons();
    const title = document.querySelector("article.lesson h1")?.textContent.trim() || document.title;
    list[page] = { title, course: document.title, saved: new Date().toISOString() };
    storeSaved(list);
    showSaved(button, true);
  } catch (error) {
    button.textContent = offline.dataset.failed;
  } finally {
    button.disabled = false;
  }
}

async function removeLesson(button) {
  const page = location.pathname + location.search;
  const cache = await caches.open(OFFLINE_CACHE);
  await cache.delete(page);
  const list = savedLessons();
  delete list[page];
  storeSaved(list);
  showSaved(button, false);
}

function showSaved(button, saved) {
  button.dataset.saved = saved ? "1" : "";
  button.textContent = saved ? `✓ ${offline.dataset.saved} · ${offline.dataset.remove}` : `⤓ ${offline.dataset.save}`;
  button.classList.toggle("btn-outline-success", saved);
  button.classList.toggle("btn-outline-secondary", !saved);
}

function addSaveButton(lesson) {
  const button = document.createElement("button");
  button.type = "button";
  button.id = "save-offline";
  button.className = "btn btn-sm btn-outline-secondary offline-save mb-3";
  const page = location.pathname + location.search;
  showSaved(button, Boolean(savedLessons()[page]));
  button.addEventListener("click", () => (button.dataset.saved ? removeLesson(button) : saveLesson(button)));
  const heading = lesson.querySelector("h1");
  if (heading) heading.after(button); else lesson.prepend(button);
}

function listSavedLessons() {
  const target = document.getElementById("saved-lessons");
  if (!target) return;
  const list = savedLessons();
  const pages = Object.keys(list);
  if (!pages.length) {
    const li = document.createElement("li");
    li.className = "list-group-item text-muted";
    li.textContent = offline.dataset.empty;
    target.append(li);
  }
  for (const page of pages) {
    const li = document.createElement("li");
    li.className = "list-group-item";
    const a = document.createElement("a");
    a.href = page;
    a.textContent = list[page].title;
    li.append(a);
    target.append(li);
  }
}

if (offline) {
  const lesson = document.querySelector("article.lesson");
  const supported = "serviceWorker" in navigator && "caches" in window;
  if (supported && (lesson || document.getElementById("saved-lessons"))) {
    navigator.serviceWorker.register(offline.dataset.sw, { scope: "/" }).catch(() => {});
  }
  if (lesson && supported) addSaveButton(lesson);
  listSavedLessons();
}
