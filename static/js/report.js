// The resident's report page: without this script the form posts as plain HTML; with it, a
// report and its photo (resized here) go into the outbox at once, sent when the network allows.
import { betweenSyncs, configure, enqueue, list, newId, onChange, pendingCount, start, syncNow } from "./outbox.js";
import { $, el, isoNow, locate, pageData, registerServiceWorker, stateText, t } from "./page.js";
import { prepare } from "./photo.js";

const urls = pageData("urls");
configure({ sync: urls.sync, attachment: urls.attachment });
const UUID_RE = /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;
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

const field = (name) => form.elements[name];
const value = (name) => (field(name) ? field(name).value.trim() : "");

// --- where: the phone's position

let position = null;

function showPosition() {
  if (!position) return;
  field("lat").value = position.lat;
  field("lon").value = position.lon;
  field("accuracy_m").value = position.accuracy_m;
  positionStatus.textContent = t("Position recorded (within {m} m).", { m: position.accuracy_m });
}

if (positionButton && "geolocation" in navigator) {
  positionButton.hidden = false;
  positionButton.addEventListener("click", () => {
    positionStatus.textContent = t("Looking for your position…");
    locate(6, { enableHighAccuracy: true, timeout: 20000 }).then(
      (found) => { position = found; showPosition(); findNearby(); },
      () => { positionStatus.textContent = t("Your position is not available: give an address instead."); },
    );
  });
}

// --- "me too" on open reports nearby: online only, so nearby.js is fetched then, never precached

async function findNearby() {
  const category = value("category");
  nearbyBox.replaceChildren();
  nearbyBox.hidden = true;
  if (!position || !category || !navigator.onLine) return;
  try {
    const { showNearby } = await import("./nearby.js");
    await showNearby(nearbyBox, urls, { category, lat: position.lat, lon: position.lon }, say);
  } catch (err) {
    // offline after all: no suggestions, the report can still be filed
  }
}

field("category")?.addEventListener("change", findNearby);

// --- photo

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
  // A report sent meanwhile waits for it (saveReport).
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

// --- the report

function reportData() {
  const contact = { name: value("reporter_name"), email: value("reporter_email"), phone: value("reporter_phone") };
  const consent = field("reporter_consent")?.checked;
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
    wants_to_help: Boolean(field("wants_to_help")?.checked),
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
    field("address").focus();
    return;
  }
  if (hasContact && !consent) {
    say(t("Tick the consent box to leave your contact details, or clear them."), "error");
    field("reporter_consent").focus();
    return;
  }
  const entry = { id: newId(), kind: "report", version: 1, created_at: isoNow(), data };
  const photos = prepared ? [{ sha256: prepared.sha256, blob: prepared.blob, type: prepared.type }] : [];
  try {
    await enqueue(entry, { endpoint, photos });
  } catch (err) {
    // The outbox says when the phone's storage is full; anything else is unexpected here.
    say(err.name === "QuotaExceededError" ? err.message : t("Could not save the report on this phone."), "error");
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

// --- my reports: their state and tracking links

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
    const known = all[item.id] || {};
    known.title = known.title || item.data.title || "";
    known.state = item.state;
    known.message = item.message || "";
    if (item.receipt && item.receipt.tracking_url) {
      if (!known.tracking_url) announce = t("Your report was sent. Keep your tracking link.");
      known.tracking_url = item.receipt.tracking_url;
      known.state = "sent";
    }
    all[item.id] = known;
  }
  saveMine(all);
  const entries = Object.entries(all).sort((a, b) => (b[1].at || "").localeCompare(a[1].at || ""));
  const texts = { ...stateText(), waiting: t("Waiting for the network") };
  mineList.replaceChildren(...entries.slice(0, 20).map(([, report]) => {
    const state = texts[report.state] ? report.state : "waiting";
    return el("li", {},
      el("strong", {}, report.title || t("Report")),
      el("span", { className: `state state-${state}` }, ` — ${texts[state]}`),
      report.message && state === "attention" ? el("p", {}, report.message) : null,
      report.tracking_url ? el("br") : null,
      report.tracking_url ? el("a", { href: report.tracking_url, className: "tracking-link" }, t("Follow this report")) : null);
  }));
  $("my-reports-section").hidden = entries.length === 0;
  if (announce) say(announce, "ok");
}

// --- offline: the service worker keeps this page, the outbox sends when it can

if (encounterId) $("field-mode").hidden = false;
// Promise to keep a report only once the outbox opens (some private modes refuse IndexedDB).
pendingCount().then(
  () => { $("offline-note").hidden = false; },
  () => {},
);
onChange(render);
render();
start();
registerServiceWorker(urls.sw, $("update-banner"), $("reload-page"), betweenSyncs);
