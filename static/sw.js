// Lentera service worker: serves lessons the learner saved for reading offline.
// It caches nothing by itself; static/js/app.js puts a lesson and its files into the
// "lentera-lessons-v1" cache when the learner asks. Pages: network first, then the saved
// copy, then the offline page. Files: the saved copy first (their URLs are versioned).
const CACHE = "lentera-lessons-v1";
const OFFLINE_URL = "/offline";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("lentera-lessons-") && n !== CACHE)
        .map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/xapi/")) return;
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(async () => {
        const cache = await caches.open(CACHE);
        return (await cache.match(request, { ignoreVary: true }))
          || (await cache.match(OFFLINE_URL, { ignoreVary: true }))
          || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      }),
    );
    return;
  }
  event.respondWith(
    caches.open(CACHE)
      .then((cache) => cache.match(request, { ignoreVary: true }))
      .then((saved) => saved || fetch(request)),
  );
});
