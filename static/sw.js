// The service worker: opens the app from the home screen without a network. Pages come from the
// network when there is one (live scores must never be stale) and each page seen is kept, so
// offline the last board seen opens instead of the browser's error; its badge then says
// "Offline, last updated 15:42" (live.js). Static files have content-hashed URLs, so a cached
// copy is always right. The live streams are never touched.
const CACHE = "livescores-v1";
const SHELL = ["/", "/static/favicon.svg", "/static/icon-192.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

const pageFirst = async (request) => {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    return (await cache.match(request, { ignoreSearch: false })) || (await cache.match("/")) || Response.error();
  }
};
const fileFirst = async (request) => {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
};

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (["/ws", "/sse", "/api/stream"].includes(url.pathname)) return;
  if (event.request.mode === "navigate") event.respondWith(pageFirst(event.request));
  else if (url.pathname.startsWith("/static/")) event.respondWith(fileFirst(event.request));
});
