// Outreach service worker (an ES module). The server fills in VERSION, the precache list
// ([url, content hash] of every static file) and the app-shell pages when it serves /sw.js.
// It never touches the outbox's data: it only caches the app, and replays the outbox
// through Background Sync where the browser has it.
import { configure, syncNow, SYNC_TAG } from "__OUTBOX__";

const VERSION = "__VERSION__";
const PRECACHE = __PRECACHE__;
const PAGES = __PAGES__;
const STATIC = "__STATIC__";
const OFFLINE = "__OFFLINE__"; // one of PAGES: shown for a navigation nothing else can answer
const TRACK = "__TRACK__"; // a resident's status page is TRACK + token
const SIGN_OUT = __SIGN_OUT__; // [method, path] of the requests that sign out
const PREFIX = "outreach-";
const CACHE = `${PREFIX}precache-${VERSION}`;
// The last status page a resident opened (and its photos), alone: a phone that follows several
// reports keeps only the one opened last, so a shared phone shows no older one to the next
// person, and nothing grows. Not versioned: it is the server's page, not the app's code, and it
// outlives updates of the app.
const LAST_TRACK = `${PREFIX}last-track`;
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
      if (name.startsWith(PREFIX) && name !== CACHE && name !== LAST_TRACK) await caches.delete(name);
    }
    // Every navigation now goes through this worker: the browser asks the network at once, while
    // the worker starts, so an office page opens no later than without it.
    if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
  if (event.data && event.data.type === "version" && event.ports[0]) event.ports[0].postMessage(VERSION);
  // A status page this worker did not serve (the phone's first visit, before it was installed).
  if (event.data && event.data.type === "keep-track" && trackToken(event.data.path)) {
    const path = event.data.path;
    event.waitUntil(fetch(path, { credentials: "same-origin" })
      .then((response) => remember(path, response))
      .catch(() => null));
  }
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
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // A worker who signs out leaves no resident's page behind (the request itself goes on untouched).
  if (SIGN_OUT.some(([method, path]) => method === request.method && path === url.pathname)) {
    event.waitUntil(caches.delete(LAST_TRACK));
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    if (PAGES.includes(url.pathname)) event.respondWith(page(event, url.pathname));
    else if (trackToken(url.pathname)) event.respondWith(trackPage(event, url.pathname));
    else event.respondWith(navigation(event).catch(offlinePage));
    return;
  }
  if (url.pathname.startsWith(STATIC)) event.respondWith(staticFile(request));
  else if (trackToken(url.pathname) && url.pathname.includes("/photos/")) event.respondWith(trackPhoto(request, url.pathname));
});

// Static files: from the cache (their URLs carry a content hash), else from the network.
async function staticFile(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request) || await cache.match(request, { ignoreSearch: true });
  return hit || fetch(request);
}

// The network's answer to a navigation: the one the browser asked for while the worker started
// (navigation preload), else a fetch of its own.
async function navigation(event) {
  return (await event.preloadResponse) || fetch(event.request);
}

// App-shell pages: the network when it answers in time, else the cached shell.
async function page(event, path) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(path);
  try {
    const network = navigation(event);
    if (!cached) return await network;
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), NAVIGATION_TIMEOUT_MS));
    const response = await Promise.race([network, timeout]);
    if (response && response.status < 500) return response;
    return cached;
  } catch (error) {
    return cached || offlinePage();
  }
}

// "You are offline", with links to the pages that open without network; the browser's own
// error page if even that is missing.
async function offlinePage() {
  const cache = await caches.open(CACHE);
  return (await cache.match(OFFLINE)) || Response.error();
}

// --- a resident's status page: the network first, else the last copy ------------------------

// The token of a status page (TRACK + token) or of one of its photos (TRACK + token + "/photos/…").
function trackToken(path) {
  if (typeof path !== "string" || !path.startsWith(TRACK)) return null;
  const token = path.slice(TRACK.length).split("/")[0];
  return token || null;
}

// The page from the network, kept as the last copy when it is a good one; without an answer in
// time (or with a server error), the copy of this very page, if it is the one kept. A page of
// another report is never answered with this copy: it gets the offline page.
async function trackPage(event, path) {
  const cache = await caches.open(LAST_TRACK);
  const cached = await cache.match(path);
  const network = navigation(event).then((response) => remember(path, response));
  event.waitUntil(network.catch(() => null)); // a late answer still replaces the copy
  try {
    if (!cached) return await network;
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), NAVIGATION_TIMEOUT_MS));
    const response = await Promise.race([network, timeout]);
    if (response && response.status < 500) return response;
  } catch (error) {
    if (!cached) return offlinePage();
  }
  return lastCopy(cached);
}

// Keep `response` as the one copy when it is a whole page; never an error, a redirect or
// something the server forbids keeping. A page that is gone (404: a bad link, or a report
// erased on request) takes its copy with it. Gives the response back, unread.
async function remember(path, response) {
  const kind = response.headers.get("Content-Type") || "";
  const cacheControl = response.headers.get("Cache-Control") || "";
  if (response.status === 200 && response.type === "basic" && !response.redirected
      && kind.startsWith("text/html") && !cacheControl.includes("no-store")) {
    const cache = await caches.open(LAST_TRACK);
    for (const key of await cache.keys()) {
      if (trackToken(new URL(key.url).pathname) !== trackToken(path)) await cache.delete(key);
    }
    await cache.put(path, response.clone());
  } else if (response.status === 404 || response.status === 410) {
    await caches.open(LAST_TRACK).then((cache) => cache.delete(path));
  }
  return response;
}

// The kept copy as the phone shows it offline: its "no network" note shown (the page's own
// "updated on …" line says when the copy was made), what needs the network hidden.
async function lastCopy(cached) {
  const html = (await cached.text())
    .replaceAll("data-offline-copy hidden", "data-offline-copy")
    .replaceAll("data-online-only", "data-online-only hidden");
  const headers = new Headers(cached.headers);
  headers.delete("Content-Length"); // the text changed
  return new Response(html, { status: 200, headers });
}

// A photo of the kept page: the network first, kept beside the page; else the kept one.
async function trackPhoto(request, path) {
  const cache = await caches.open(LAST_TRACK);
  try {
    const response = await fetch(request);
    if (response.status === 200 && await cache.match(TRACK + trackToken(path))) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    return (await cache.match(request)) || Response.error();
  }
}
