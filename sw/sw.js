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
// The last status page opened, alone: a shared phone shows no older report, and nothing grows.
// (Its photos are in the browser's HTTP cache for a day.) Not versioned: it is the server's page,
// not the app, and outlives updates.
const LAST_TRACK = `${PREFIX}last-track`;
const NAVIGATION_TIMEOUT_MS = 4000;

self.OUTREACH_VERSION = VERSION;
configure(__ENDPOINTS__); // the outbox's endpoints, from the route table

// One failed fetch fails the whole install, and the browser tries again only at the next page
// load: on a weak network the phone would stay without its offline app. So each file gets three tries.
async function fetchKept(url, init) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await fetch(new Request(url, init));
      if (response.ok || attempt === 3) return response;
    } catch (error) {
      if (attempt === 3) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all(PRECACHE.map(async ([url]) => {
      const response = await fetchKept(url, {});
      if (!response.ok) throw new Error(`${url}: ${response.status}`);
      await cache.put(url, response);
    }));
    // Pages are fetched without cookies: the shell must hold no one's data. In the language the
    // previous version kept them in (the one the person chose), else the browser's.
    const previous = (await caches.keys()).find((name) => name.startsWith(`${PREFIX}precache-`) && name !== CACHE);
    await keepPages(cache, await shellLanguage(previous && await caches.open(previous)));
    // No skipWaiting here: the page asks for it between syncs ("new version — reload").
  })());
});

// The app-shell pages, fetched again into `cache`; `language`: the one to ask for (else the browser's).
// `exact`: keep only pages written in it (a code the server does not speak changes nothing).
async function keepPages(cache, language, exact = false) {
  for (const page of PAGES) {
    const response = await fetchKept(page, { credentials: "omit", cache: "reload", headers: language ? { "Accept-Language": language } : {} });
    if (response.ok && (!exact || response.headers.get("Content-Language") === language)) await cache.put(page, response);
  }
}

// The language the kept pages of `cache` are all written in (their Content-Language), else null
// (one is missing, or in another: a fetch that failed halfway).
async function shellLanguage(cache) {
  const found = new Set();
  for (const page of PAGES) {
    const kept = cache && await cache.match(page);
    found.add(kept && kept.headers.get("Content-Language"));
  }
  return found.size === 1 ? [...found][0] : null;
}

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE && name !== LAST_TRACK) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") self.skipWaiting();
  if (event.data && event.data.type === "version" && event.ports[0]) event.ports[0].postMessage(VERSION);
  if (event.data && event.data.type === "claim") event.waitUntil(self.clients.claim());
  // A page says which language the person reads (they may have chosen another than the browser's):
  // the pages kept for offline use are fetched again in it when they are in another one.
  const language = event.data && event.data.type === "language" && event.data.language;
  if (typeof language === "string" && /^[a-z]{2,3}$/.test(language)) { // (test() would take ["fr"] for "fr")
    event.waitUntil(caches.open(CACHE).then(async (cache) => {
      if (await shellLanguage(cache) !== language) await keepPages(cache, language, true);
    }).catch(() => null)); // no network now: the next page shown online asks again
  }
  // A status page this worker did not serve (the phone's first visit).
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
  // Signing out (the request goes on untouched) leaves no resident's page behind.
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
});

// Static files: from the cache (their URLs carry a content hash), else from the network.
async function staticFile(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request) || await cache.match(request, { ignoreSearch: true });
  return hit || fetch(request);
}

// No navigation preload: it made the offline first tap 40–180 ms slower (bench_first_tap.py).
function navigation(event) {
  return fetch(event.request);
}

// The answer if it comes in time, else null.
function inTime(promise) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, NAVIGATION_TIMEOUT_MS, null))]);
}

// App-shell pages: the network when it answers in time, else the cached shell.
async function page(event, path) {
  const cached = await (await caches.open(CACHE)).match(path);
  try {
    const network = navigation(event);
    if (!cached) return await network;
    const response = await inTime(network);
    if (response && response.status < 500) return response;
    return cached;
  } catch (error) {
    return cached || offlinePage();
  }
}

// "You are offline" and the pages that open without network.
async function offlinePage() {
  const cache = await caches.open(CACHE);
  return (await cache.match(OFFLINE)) || Response.error();
}

// --- a resident's status page: the network first, else the last copy ------------------------

// The token of a status page (TRACK + token), else null.
function trackToken(path) {
  const token = typeof path === "string" && path.startsWith(TRACK) && path.slice(TRACK.length);
  return token && !token.includes("/") ? token : null;
}

// The network first (a good answer becomes the copy); with no answer in time or a 5xx, the copy
// of this very page. Another report's page never gets it: it gets the offline page.
async function trackPage(event, path) {
  const cached = await (await caches.open(LAST_TRACK)).match(path);
  const network = navigation(event).then((response) => remember(path, response));
  event.waitUntil(network.catch(() => null)); // a late answer still replaces the copy
  try {
    if (!cached) return await network;
    const response = await inTime(network);
    if (response && response.status < 500) return response;
  } catch (error) {
    if (!cached) return offlinePage();
  }
  return lastCopy(cached);
}

// Keep a whole page as the one copy: never an error, a redirect, nor what the server says not to
// store. A page gone (404: a report erased on request) takes its copy with it.
async function remember(path, response) {
  const kind = response.headers.get("Content-Type") || "";
  const cacheControl = response.headers.get("Cache-Control") || "";
  if (response.status === 200 && response.type === "basic" && !response.redirected
      && kind.startsWith("text/html") && !cacheControl.includes("no-store")) {
    await caches.delete(LAST_TRACK);
    await (await caches.open(LAST_TRACK)).put(path, response.clone());
  } else if ((response.status === 404 || response.status === 410) && await caches.has(LAST_TRACK)) {
    await (await caches.open(LAST_TRACK)).delete(path); // (open alone would make an empty cache)
  }
  return response;
}

// The copy as shown offline: its "no network" note shown (its "updated on" line, written by the
// server, dates the copy), what needs the network hidden.
async function lastCopy(cached) {
  const html = (await cached.text())
    .replaceAll("data-offline-copy hidden", "data-offline-copy")
    .replaceAll("data-online-only", "data-online-only hidden");
  const headers = new Headers(cached.headers);
  headers.delete("Content-Length"); // the text changed
  return new Response(html, { status: 200, headers });
}
