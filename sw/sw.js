// Outreach service worker (an ES module). The server fills in VERSION, the precache list
// ([url, content hash] of every static file) and the app-shell pages when it serves /sw.js.
// It never touches the outbox's data: it only caches the app, and replays the outbox
// through Background Sync where the browser has it.
import { configure, syncNow, SYNC_TAG } from "__OUTBOX__";

const VERSION = "__VERSION__";
const PRECACHE = __PRECACHE__;
const PAGES = __PAGES__;
const STATIC = "__STATIC__";
const PREFIX = "outreach-";
const CACHE = `${PREFIX}precache-${VERSION}`;
const NAVIGATION_TIMEOUT_MS = 4000;

self.OUTREACH_VERSION = VERSION;
configure(__ENDPOINTS__); // the outbox's endpoints, from the route table

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(PRECACHE.map(([url]) => url));
    // Pages are fetched without cookies: the shell must hold no one's data.
    for (const page of PAGES) {
      const response = await fetch(new Request(page, { credentials: "omit", cache: "reload" }));
      if (response.ok) await cache.put(page, response);
    }
    // No skipWaiting here: the page asks for it between syncs ("new version — reload").
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
  if (event.data && event.data.type === "version" && event.ports[0]) event.ports[0].postMessage(VERSION);
});

self.addEventListener("sync", (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(syncNow().then((outcome) => {
    // Throwing asks the browser to try this sync again later, with its own backoff.
    if (outcome && outcome.status === "retry") throw new Error("outbox: server unreachable");
  }));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    if (PAGES.includes(url.pathname)) event.respondWith(page(request, url.pathname));
    return;
  }
  if (url.pathname.startsWith(STATIC)) event.respondWith(staticFile(request));
});

// Static files: from the cache (their URLs carry a content hash), else from the network.
async function staticFile(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request) || await cache.match(request, { ignoreSearch: true });
  return hit || fetch(request);
}

// App-shell pages: the network when it answers in time, else the cached shell.
async function page(request, path) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(path);
  try {
    const network = fetch(request);
    if (!cached) return await network;
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), NAVIGATION_TIMEOUT_MS));
    const response = await Promise.race([network, timeout]);
    if (response && response.status < 500) return response;
    return cached;
  } catch (error) {
    if (cached) return cached;
    throw error;
  }
}
