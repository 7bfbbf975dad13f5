// What every script shares. No imports: the outbox uses t() in the service worker too (no document).

export const $ = (id) => document.getElementById(id);

// The JSON in <script type="application/json" id="…"> (CSP: no inline script).
export function pageData(id) {
  const node = typeof document !== "undefined" && $(id);
  return node ? JSON.parse(node.textContent) : {};
}

let messages = null;

// t(msgid, {n: 3}): the message in the page's language (the page holds those that differ).
export function t(msgid, values) {
  messages = messages || pageData("i18n");
  let text = messages[msgid] || msgid;
  for (const [key, value] of Object.entries(values || {})) text = text.split(`{${key}}`).join(value);
  return text;
}

// What an outbox item's state reads as, on every page that lists them.
export const stateText = () => ({ waiting: t("Waiting"), sending: t("Sending…"), sent: t("Sent"), attention: t("Needs attention") });

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child != null));
  return node;
}

// Local time with its offset, as the server wants it.
export function isoNow(d = new Date()) {
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const offset = -d.getTimezoneOffset();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:` +
    `${pad(d.getSeconds())}${offset < 0 ? "-" : "+"}${pad(offset / 60)}:${pad(offset % 60)}`;
}

// The phone's position, rounded to `decimals`: {lat, lon, accuracy_m}; rejects without one.
export function locate(decimals, options) {
  const round = (x) => Math.round(x * 10 ** decimals) / 10 ** decimals;
  return new Promise((resolve, reject) => navigator.geolocation.getCurrentPosition(
    ({ coords }) => resolve({ lat: round(coords.latitude), lon: round(coords.longitude), accuracy_m: Math.round(coords.accuracy) }),
    reject, { maximumAge: 60000, ...options }));
}

// Register the service worker; when a new version waits, `banner`'s `button` reloads into it,
// only between two syncs (`whenIdle` is the outbox's betweenSyncs).
export async function registerServiceWorker(url, banner, button, whenIdle) {
  if (!url || !("serviceWorker" in navigator)) return null;
  let reg;
  try {
    reg = await navigator.serviceWorker.register(url, { type: "module", scope: "/" });
  } catch (error) {
    console.warn("service worker not registered", error);
    return null; // the page still works online, and the outbox still queues
  }
  navigator.serviceWorker.ready.then((r) => {
    // The pages kept offline follow this page's language.
    r.active.postMessage({ type: "language", language: document.documentElement.lang });
    // A page whose load began before the worker was active (or a forced reload) is not one it
    // took when activating: it asks, so that it opens offline without another load.
    if (!navigator.serviceWorker.controller) r.active.postMessage({ type: "claim" });
  });
  const offer = () => { if (reg.waiting && navigator.serviceWorker.controller) banner.hidden = false; };
  offer();
  reg.addEventListener("updatefound", () => {
    const worker = reg.installing;
    if (worker) worker.addEventListener("statechange", () => { if (worker.state === "installed") offer(); });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading || !banner.dataset.asked) return;
    reloading = true;
    window.location.reload();
  });
  button.addEventListener("click", () => {
    banner.dataset.asked = "1";
    whenIdle(async () => { if (reg.waiting) reg.waiting.postMessage({ type: "skip-waiting" }); });
  });
  return reg;
}
