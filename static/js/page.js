// Small helpers every page script shares: data the server put in the page, building nodes,
// times, and the service worker with its "new version — reload" prompt.
import { betweenSyncs } from "./outbox.js";

export const $ = (id) => document.getElementById(id);

// The JSON the server rendered into <script type="application/json" id="…"> (CSP: no inline script).
export function pageData(id) {
  const node = $(id);
  return node ? JSON.parse(node.textContent) : {};
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// Now, in local time with its offset: the server wants ISO 8601 with an offset.
export function isoNow(d = new Date()) {
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:` +
    `${pad(d.getSeconds())}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

// Register the service worker; when a new version waits, show `banner`; its `button` reloads
// into it, only between syncs.
export async function registerServiceWorker(url, banner, button) {
  if (!url || !("serviceWorker" in navigator)) return null;
  let reg;
  try {
    reg = await navigator.serviceWorker.register(url, { type: "module", scope: "/" });
  } catch (error) {
    console.warn("service worker not registered", error);
    return null; // the page still works online, and the outbox still queues
  }
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
  button.addEventListener("click", async () => {
    banner.dataset.asked = "1";
    // The new version takes over only between syncs, never in the middle of one.
    await betweenSyncs(async () => { if (reg.waiting) reg.waiting.postMessage({ type: "skip-waiting" }); });
  });
  return reg;
}
