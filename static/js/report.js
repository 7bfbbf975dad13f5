// The resident's report page, offline first. Without this script the form posts as plain
// HTML; with it, a report (and its photo, resized here) goes into the outbox at once and
// reaches the server when the network allows, exactly once.

import { t } from "./i18n.js";
import { configure, enqueue, list, newId, onChange, pendingCount, start, syncNow } from "./outbox.js";
import { $, isoNow, pageData, registerServiceWorker } from "./page.js";
import { prepare } from "./photo.js";

const urls = pageData("urls");
configure({ sync: urls.sync, attachment: urls.attachment });
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// A worker filing *with* a resident opens /report?encounter=<uuid> from the field app: the
// report then goes through the worker's own sync (signed in), linked to that encounter.
const encounterId = (() => {
  const value = new URLSearchParams(window.location.search).get("encounter");
  return value && UUID_RE.test(value.toLowerCase()) ? value.toLowerCase() : null;
})();
const endpoint = encounterId ? urls.sync : urls.reports;
const MINE_KEY = "outreach.my-reports"; // tracking links kept on this phone (not the outbox)

const form = $("report-form");
const statusBox = $("report-status");
const mineList = $("my-reports");
const nearbyBox = $("nearby");
const positionButton = $("use-position");
const positionStatus = $("position-status");
const photoInput = $("photo");
const photoStatus = $("photo-status");

function say(text, kind = "info") {
  statusBox.textContent = text;
  statusBox.dataset.kind = kind;
  statusBox.hidden = !text;
}

function value(name) {
  const el = form.elements.namedItem(name);
  return el ? el.value.trim() : "";
}

// --- where: the phone's position --------------------------------------------------------

let position = null;

function showPosition() {
  if (!position) return;
  form.elements.namedItem("lat").value = position.lat;
  form.elements.namedItem("lon").value = position.lon;
  form.elements.namedItem("accuracy_m").value = position.accuracy_m;
  positionStatus.textContent = t("Position recorded (within {m} m).", { m: position.accuracy_m });
}

if (positionButton && "geolocation" in navigator) {
  positionButton.hidden = false;
  positionButton.addEventListener("click", () => {
    positionStatus.textContent = t("Looking for your position…");
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        position = {
          lat: Math.round(pos.coords.latitude * 1e6) / 1e6,
          lon: Math.round(pos.coords.longitude * 1e6) / 1e6,
          accuracy_m: Math.round(pos.coords.accuracy),
        };
        showPosition();
        findNearby();
      },
      () => {
        positionStatus.textContent = t("Your position is not available: give an address instead.");
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
    );
  });
}

// --- "me too" on open reports nearby (online only) --------------------------------------

async function findNearby() {
  const category = value("category");
  nearbyBox.replaceChildren();
  nearbyBox.hidden = true;
  if (!position || !category || !navigator.onLine) return;
  const params = new URLSearchParams({ category, lat: position.lat, lon: position.lon });
  let found;
  try {
    const response = await fetch(`${urls.nearby}?${params}`, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    found = (await response.json()).reports || [];
  } catch (err) {
    return; // offline after all: no suggestions, the report can still be filed
  }
  if (!found.length) return;
  const heading = document.createElement("h2");
  heading.textContent = t("Already reported nearby");
  const intro = document.createElement("p");
  intro.textContent = t("If your report is one of these, say “me too” instead of filing it again.");
  const ul = document.createElement("ul");
  ul.className = "nearby-list";
  for (const report of found) {
    const li = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = report.title;
    const where = document.createElement("span");
    where.textContent = ` — ${report.distance_m} m${report.address ? " · " + report.address : ""}`;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary";
    button.textContent = t("Me too");
    button.addEventListener("click", () => meToo(report, button));
    li.append(title, where, document.createElement("br"), button);
    ul.append(li);
  }
  nearbyBox.append(heading, intro, ul);
  nearbyBox.hidden = false;
}

async function meToo(report, button) {
  button.disabled = true;
  try {
    const response = await fetch(urls.me_too.replace("{id}", encodeURIComponent(report.id)), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ id: newId() }),
    });
    if (!response.ok) throw new Error(String(response.status));
    button.textContent = t("Thank you: counted");
    say(t("Thank you: your support was added to this report."), "ok");
  } catch (err) {
    button.disabled = false;
    say(t("Could not send your “me too”: try again when online."), "error");
  }
}

form.elements.namedItem("category")?.addEventListener("change", findNearby);

// --- photo ------------------------------------------------------------------------------

let prepared = null;
let preparing = Promise.resolve();
photoInput?.addEventListener("change", () => {
  prepared = null;
  const file = photoInput.files && photoInput.files[0];
  if (!file) {
    photoStatus.textContent = "";
    return;
  }
  photoStatus.textContent = t("Preparing the photo…");
  // A report sent while the photo is still being resized waits for it (see the submit handler).
  preparing = prepare(file).then(
    (photo) => {
      prepared = photo;
      photoStatus.textContent = t("Photo ready ({w} × {h}).", { w: photo.width, h: photo.height });
    },
    () => {
      photoInput.value = "";
      photoStatus.textContent = t("This file is not a photo we can read.");
    },
  );
});

// --- the report -------------------------------------------------------------------------

function reportData() {
  const contact = { name: value("reporter_name"), email: value("reporter_email"), phone: value("reporter_phone") };
  const consent = form.elements.namedItem("reporter_consent")?.checked;
  const hasContact = contact.name || contact.email || contact.phone;
  const lat = value("lat");
  const data = {
    title: value("title"),
    description: value("description"),
    category: value("category"),
    location: lat ? { lat: Number(lat), lon: Number(value("lon")), accuracy_m: Number(value("accuracy_m")) || null } : null,
    address: value("address"),
    where_detail: value("where_detail"),
    photos: prepared ? [prepared.sha256] : [],
    wants_to_help: Boolean(form.elements.namedItem("wants_to_help")?.checked),
    reporter: null,
  };
  if (encounterId) data.encounter_id = encounterId;
  if (hasContact) {
    data.reporter = { consent: Boolean(consent), consent_text_version: value("consent_text_version") };
    for (const [k, v] of Object.entries(contact)) if (v) data.reporter[k] = v;
  }
  return { data, hasContact, consent };
}

let submitting = false;
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (submitting || !form.reportValidity()) return;
  submitting = true; // a double tap files one report, not two
  try {
    await saveReport();
  } finally {
    submitting = false;
  }
});

async function saveReport() {
  await preparing;
  const { data, hasContact, consent } = reportData();
  if (!data.location && !data.address) {
    say(t("Say where: use your position or give an address."), "error");
    form.elements.namedItem("address").focus();
    return;
  }
  if (hasContact && !consent) {
    say(t("Tick the consent box to leave your contact details, or clear them."), "error");
    form.elements.namedItem("reporter_consent").focus();
    return;
  }
  const entry = { id: newId(), kind: "report", version: 1, created_at: isoNow(), data };
  const photos = prepared ? [{ sha256: prepared.sha256, blob: prepared.blob, type: prepared.type }] : [];
  try {
    await enqueue(entry, { endpoint, photos });
  } catch (err) {
    const full = err && err.name === "QuotaExceededError";
    say(full ? t("Your phone is out of storage: free some space and try again.") : t("Could not save the report on this phone."), "error");
    return;
  }
  rememberTitle(entry.id, data.title);
  form.reset();
  prepared = null;
  position = null;
  photoStatus.textContent = "";
  positionStatus.textContent = "";
  nearbyBox.hidden = true;
  say(
    navigator.onLine ? t("Report saved. Sending…") : t("Report saved on this phone. It will be sent when the network returns."),
    "ok",
  );
  syncNow().catch(() => {});
}

// --- my reports: their state and tracking links -----------------------------------------

function mine() {
  try {
    return JSON.parse(localStorage.getItem(MINE_KEY) || "{}");
  } catch (err) {
    return {};
  }
}

function saveMine(all) {
  try {
    localStorage.setItem(MINE_KEY, JSON.stringify(all));
  } catch (err) {
    /* private mode: the list is only shown while the page is open */
  }
}

function rememberTitle(id, title) {
  const all = mine();
  all[id] = Object.assign(all[id] || {}, { title, at: new Date().toISOString() });
  saveMine(all);
}

const STATE_LABELS = {
  waiting: () => t("Waiting for the network"),
  sending: () => t("Sending…"),
  sent: () => t("Sent"),
  attention: () => t("Needs attention"),
};

async function render() {
  const all = mine();
  let items = [];
  try {
    items = (await list()).filter((item) => item.kind === "report");
  } catch (err) {
    items = [];
  }
  let announce = "";
  for (const item of items) {
    const id = item.id || (item.entry && item.entry.id);
    const known = all[id] || {};
    known.title = known.title || item.data?.title || item.entry?.data?.title || "";
    known.state = item.state;
    known.message = item.message || "";
    if (item.receipt && item.receipt.tracking_url) {
      if (!known.tracking_url) announce = t("Your report was sent. Keep your tracking link.");
      known.tracking_url = item.receipt.tracking_url;
      known.state = "sent";
    }
    all[id] = known;
  }
  saveMine(all);
  const entries = Object.entries(all).sort((a, b) => (b[1].at || "").localeCompare(a[1].at || ""));
  mineList.replaceChildren();
  for (const [, report] of entries.slice(0, 20)) {
    const li = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = report.title || t("Report");
    const state = document.createElement("span");
    state.className = `state state-${report.state || "waiting"}`;
    state.textContent = ` — ${(STATE_LABELS[report.state] || STATE_LABELS.waiting)()}`;
    li.append(title, state);
    if (report.message && report.state === "attention") {
      const msg = document.createElement("p");
      msg.textContent = report.message;
      li.append(msg);
    }
    if (report.tracking_url) {
      const link = document.createElement("a");
      link.href = report.tracking_url;
      link.className = "tracking-link";
      link.textContent = t("Follow this report");
      li.append(document.createElement("br"), link);
    }
    mineList.append(li);
  }
  $("my-reports-section").hidden = entries.length === 0;
  if (announce) say(announce, "ok");
}

// --- offline: the service worker keeps this page, the outbox sends when it can ---------

if (encounterId) $("field-mode").hidden = false;
// The page promises to keep a report on this phone only once its outbox opens here (a browser
// that refuses IndexedDB, as some private modes do, keeps nothing).
pendingCount().then(
  () => { $("offline-note").hidden = false; },
  () => {},
);
onChange(render);
render();
start();
registerServiceWorker(urls.sw, $("update-banner"), $("reload-page"));
